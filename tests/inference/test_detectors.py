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
    fields = {
        f.name: getattr(haar_model, f.name)
        for f in haar_model._meta.concrete_fields
        if f.name not in ("id", "key", "lineage", "version", "created_at")
    }
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
    from training.services.jobs import JobData, detector_for

    real = JobData(train=None, test=None, label_set=None, data_source="UTKFace", synthetic=False)
    drawn = JobData(train=None, test=None, label_set=None, data_source="Synthetic", synthetic=True)
    assert detector_for({}, real) == "mtcnn" and detector_for({}, drawn) == "haar"
    assert detector_for({"detector": "haar"}, real) == "haar"


def phone_photo(face_side: int) -> bytes:
    """A 1600x1200 JPEG (what intake stores of a phone photo) with a generated face Haar finds,
    `face_side` pixels wide, in a blurred noisy scene."""
    import cv2

    rng = np.random.default_rng(0)
    scene = cv2.GaussianBlur(rng.normal(150, 30, (1200, 1600, 3)).clip(0, 255).astype(np.uint8), (0, 0), 5)
    for i in range(60):
        face = synthetic.generate_image(i % 5, i, split="gallery")
        scene[300 : 300 + face_side, 560 : 560 + face_side] = cv2.resize(face, (face_side, face_side))
        if detect_face(scene) is not None:
            buf = io.BytesIO()
            Image.fromarray(scene).save(buf, format="JPEG", quality=90)
            return buf.getvalue()
    raise AssertionError("Haar found none of 60 generated faces in the scene")


def test_a_phone_photo_is_decoded_at_half_size_and_its_face_found_where_a_full_decode_finds_it():
    from inference.preprocessing import VGG_SPEC, load_rgb

    data = phone_photo(700)
    photo = load_face_photo(io.BytesIO(data), name="phone.jpg")
    assert photo.scale == 0.5 and photo.rgb.shape == (600, 800, 3)
    crop, found = photo.crop("haar", VGG_SPEC.size)
    full = load_rgb(io.BytesIO(data))
    box = detect_face(full)
    assert found and box is not None
    assert np.abs(np.array(photo.boxes["haar"]) - np.array(box)).max() <= 12  # stored photo's coordinates
    assert photo._full_rgb is None  # its crop is still larger than 224 px at half size: no full decode
    assert crop.shape[0] >= VGG_SPEC.size
    reduced_input = to_model_input(crop, VGG_SPEC)
    full_input = to_model_input(crop_at(full, box)[0], VGG_SPEC)
    assert np.abs(reduced_input - full_input).mean() < 0.02


def test_a_small_face_is_cropped_from_the_full_size_photo_for_a_large_input():
    from inference.preprocessing import VGG_SPEC

    photo = load_face_photo(io.BytesIO(phone_photo(300)), name="far.jpg")
    small, found = photo.crop("haar", 32)  # an MLP's 32 px: the half-size decode has plenty
    assert found and photo._full_rgb is None
    large, _ = photo.crop("haar", VGG_SPEC.size)  # under 224 px around the face at half size: too few
    assert photo._full_rgb is not None and abs(large.shape[0] - 2 * small.shape[0]) <= 2


def test_a_stored_photos_face_is_looked_for_once_across_workers(monkeypatch):
    """The first worker to need the face says so in the shared cache and publishes the box; one
    that needs it meanwhile waits for that box instead of searching too."""
    import secrets
    import threading
    import time

    from django.core.cache import cache

    data, name = phone_photo(700), f"uploads/{secrets.token_hex(8)}.jpg"
    calls, started, release = [], threading.Event(), threading.Event()
    real = preprocessing.detect_face

    def slow_detect(rgb, detector="haar"):
        calls.append(threading.current_thread().name)
        started.set()
        release.wait(5)
        return real(rgb, detector)

    monkeypatch.setattr(preprocessing, "detect_face", slow_detect)
    finder = load_face_photo(io.BytesIO(data), name=name, share=True)
    waiter = load_face_photo(io.BytesIO(data), name=name, share=True)
    thread = threading.Thread(target=finder.crop, name="finder")
    thread.start()
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    _, found = waiter.crop("haar", 32)  # waits for the finder's box
    thread.join(5)
    assert calls == ["finder"] and found and waiter.boxes == finder.boxes and waiter.found_here == set()
    assert cache.get(f"face:{name}:haar") == finder.boxes["haar"]
    alone = load_face_photo(io.BytesIO(data), name=name)  # not shared: looks for itself
    alone.crop("haar", 32)
    assert calls == ["finder", "MainThread"]
    # The MLP worker never waits for another's search: it looks itself at once.
    other = f"uploads/{secrets.token_hex(8)}.jpg"
    cache.add(f"face:{other}:haar:finding", 1, timeout=3)
    t0 = time.monotonic()
    load_face_photo(io.BytesIO(data), name=other, share=True, wait=False).crop("haar", 32)
    assert calls == ["finder", "MainThread", "MainThread"] and time.monotonic() - t0 < 2


def test_an_unreachable_cache_never_fails_a_photo_its_face_is_looked_for_here(settings):
    """Redis restarting: the shared box is only a saving, so the worker finds the face itself."""
    import secrets

    # Django's test signals rebuild the cache handler when CACHES changes.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    data, name = phone_photo(700), f"uploads/{secrets.token_hex(8)}.jpg"
    photo = load_face_photo(io.BytesIO(data), name=name, share=True)
    _, found = photo.crop("haar", 32)
    assert found and photo.found_here == {"haar"}
