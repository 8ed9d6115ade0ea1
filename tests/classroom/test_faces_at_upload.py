"""The face is found once, by the web at upload, where a worker would find it; the workers then
never search, and their answers are the same as when they searched themselves."""

import pytest
from django.core.files.storage import default_storage

from classroom.services.submissions import submit_photo
from inference import preprocessing
from inference.services import load_face_photo
from tests.helpers import synthetic_upload

pytestmark = pytest.mark.usefixtures("fresh_registry")

WITH_FACE = (2, 0)  # a generated face Haar's cascade finds at the stored size


def _box_a_worker_finds(submission) -> list:
    with default_storage.open(submission.photo, "rb") as fh:
        return load_face_photo(fh).face("haar")


def _answers(submission) -> dict:
    return {p.model_version.key: (p.label, p.probabilities, p.face_found) for p in submission.predictions.all()}


def test_the_box_stored_at_upload_is_the_one_a_worker_finds(student, assignment):
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(*WITH_FACE))
    found = _box_a_worker_finds(sub)
    assert len(found) == 4
    assert sub.face_box == {"haar": found}


def test_no_face_is_stored_as_none_found_so_the_workers_do_not_search_either(student, assignment):
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(0, 0))
    assert sub.face_box == {"haar": []}


def test_workers_do_not_search_and_answer_as_when_they_searched(student, assignment, run_all, settings, monkeypatch):
    settings.FIND_FACES_AT_UPLOAD = False
    searched = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(*WITH_FACE))
    assert searched.face_box is None
    run_all(searched)

    settings.FIND_FACES_AT_UPLOAD = True
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(*WITH_FACE))
    looked = []
    original = preprocessing.detect_face
    monkeypatch.setattr(preprocessing, "detect_face", lambda rgb, d="haar": looked.append(d) or original(rgb, d))
    run_all(sub)
    assert looked == []
    assert set(sub.predictions.values_list("status", flat=True)) == {"done"}
    assert _answers(sub) == _answers(searched)
    assert all(face_found for _, _, face_found in _answers(sub).values())


def test_a_failed_search_at_upload_loses_nothing(student, assignment, run_all, monkeypatch):
    import inference.services

    def broken(data, detectors):
        raise RuntimeError("OpenCV could not run")

    monkeypatch.setattr(inference.services, "find_faces", broken)
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(*WITH_FACE))
    assert sub.face_box is None and sub.photo
    run_all(sub)  # the workers search instead
    assert set(sub.predictions.values_list("status", flat=True)) == {"done"}
    assert all(face_found for _, _, face_found in _answers(sub).values())


def test_the_web_runs_no_detector_that_needs_tensorflow(student, assignment, monkeypatch):
    for mv in assignment.model_versions.all():
        mv.input_spec = {**mv.input_spec, "detector": "mtcnn"}
        mv.save(update_fields=["input_spec"])
    looked = []
    monkeypatch.setattr(preprocessing, "detect_face", lambda rgb, d="haar": looked.append(d))
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(*WITH_FACE))
    assert sub.face_box is None and looked == []


def test_a_large_turned_phone_photo_gets_the_box_where_its_face_is_upright(student, assignment):
    """A camera's photo stored sideways with an EXIF turn, larger than the stored size: the box is
    in the stored (upright, resized) photo's coordinates, found on its half-size decode."""
    import io

    import cv2
    import numpy as np
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from training import synthetic

    face = synthetic.generate_image(*WITH_FACE, split="gallery")
    side, left, top = 720, 1400, 300
    upright = np.full((1800, 2400, 3), 128, dtype=np.uint8)
    upright[top : top + side, left : left + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to show": the pixels are stored sideways
    buf = io.BytesIO()
    Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90).save(buf, "JPEG", quality=92, exif=exif)
    sub = submit_photo(
        assignment=assignment, student=student, upload=SimpleUploadedFile("turned.jpg", buf.getvalue(), "image/jpeg")
    )

    with default_storage.open(sub.photo, "rb") as fh:
        assert Image.open(fh).size == (1600, 1200)  # upright, at the stored size
    scale = 1600 / 2400
    x, y, w, h = preprocessing.detect_face(face)  # where the cascade finds it in the drawing itself
    expected = ((left + (x + w / 2) * side / 96) * scale, (top + (y + h / 2) * side / 96) * scale)
    bx, by, bw, bh = sub.face_box["haar"]
    assert abs(bx + bw / 2 - expected[0]) < 0.1 * side * scale and abs(by + bh / 2 - expected[1]) < 0.1 * side * scale
    assert abs(bw - w * side / 96 * scale) < 0.2 * side * scale
