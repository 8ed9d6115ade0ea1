"""The face detector is part of a model's input spec: Haar or MTCNN (the `mtcnn` wheel's own
weights), used by training and serving alike, each photo's face found once per detector."""

import io

import numpy as np
import pytest
from PIL import Image

from inference import preprocessing
from inference.preprocessing import InputSpec, crop_at, detect_face, prepare, to_model_input
from inference.services import load_face_photo, predict_photos
from training import synthetic

pytestmark = pytest.mark.usefixtures("fresh_registry")


def test_the_detector_is_part_of_the_spec_and_old_specs_are_haars():
    assert InputSpec.from_dict({"size": 32, "mode": "rgb"}).detector == "haar"
    assert "detector" not in InputSpec(size=32).to_dict()  # stored specs and caches stay as they were
    mtcnn = InputSpec(size=32, detector="mtcnn")
    assert InputSpec.from_dict(mtcnn.to_dict()) == mtcnn
    with pytest.raises(ValueError, match="Unknown face detector 'dlib'"):
        InputSpec(detector="dlib")


def missed_by_haar() -> np.ndarray:
    """A generated face Haar misses and MTCNN finds (MTCNN found 79 of 100 drawings, Haar 32)."""
    for i in range(40):
        rgb = synthetic.generate_image(1, i, split="gallery")
        if detect_face(rgb, "haar") is None and detect_face(rgb, "mtcnn") is not None:
            return rgb
    raise AssertionError("no drawing that only MTCNN finds among 40")


def test_both_detectors_feed_the_same_preprocessing_path():
    rgb = missed_by_haar()
    for detector in ("haar", "mtcnn"):
        spec = InputSpec(size=32, detector=detector)
        x, found = prepare(rgb, spec)
        crop, also_found = crop_at(rgb, detect_face(rgb, detector))
        assert np.array_equal(x, to_model_input(crop, spec)) and found == also_found
        assert x.shape == (32 * 32 * 3,) and x.dtype == np.float32
    assert prepare(rgb, InputSpec(size=32, detector="mtcnn"))[1] is True
    assert prepare(rgb, InputSpec(size=32))[1] is False  # Haar's centre crop instead


def test_a_model_is_served_with_its_own_detector_and_each_face_is_found_once(demo_models, monkeypatch):
    from inference.services import register_model_version

    haar_model = demo_models[0]
    fields = {f.name: getattr(haar_model, f.name) for f in haar_model._meta.concrete_fields
              if f.name not in ("id", "key", "lineage", "version", "created_at")}  # fmt: skip
    mtcnn_model = register_model_version(
        key="mtcnn-twin", **{**fields, "input_spec": {**haar_model.input_spec, "detector": "mtcnn"}}
    )
    calls = []
    real = preprocessing.detect_face
    monkeypatch.setattr(
        preprocessing, "detect_face", lambda rgb, detector="haar": calls.append(detector) or real(rgb, detector)
    )
    buf = io.BytesIO()
    Image.fromarray(missed_by_haar()).save(buf, "PNG")
    photo = load_face_photo(io.BytesIO(buf.getvalue()), name="face.png")
    [mtcnn_answer] = predict_photos(model_version=mtcnn_model, sources=[photo])
    assert calls == ["mtcnn"] and mtcnn_answer.face_found is True
    [haar_answer] = predict_photos(model_version=haar_model, sources=[photo])
    predict_photos(model_version=mtcnn_model, sources=[photo])
    assert calls == ["mtcnn", "haar"] and haar_answer.face_found is False  # once per detector
    assert set(photo.boxes) == {"haar", "mtcnn"} and len(photo.boxes["mtcnn"]) == 4 and photo.boxes["haar"] == []
    known = load_face_photo(io.BytesIO(buf.getvalue()), boxes=photo.boxes)
    predict_photos(model_version=mtcnn_model, sources=[known])
    assert calls == ["mtcnn", "haar"] and known.found_here == set()  # another worker's boxes are reused


def test_jobs_on_real_photos_default_to_mtcnn_and_the_synthetic_set_to_haar():
    from training.jobs import JobData, detector_for

    real = JobData(train=None, test=None, label_set=None, data_source="UTKFace", synthetic=False)
    drawn = JobData(train=None, test=None, label_set=None, data_source="Synthetic", synthetic=True)
    assert detector_for({}, real) == "mtcnn" and detector_for({}, drawn) == "haar"
    assert detector_for({"detector": "haar"}, real) == "haar"
