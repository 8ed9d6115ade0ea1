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
