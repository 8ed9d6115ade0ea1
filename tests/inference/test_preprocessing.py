import numpy as np

from inference.preprocessing import InputSpec, crop_face, prepare, to_model_input
from training import synthetic


def test_flat_image_has_no_face_and_uses_centre_crop():
    rgb = np.full((120, 200, 3), 128, dtype=np.uint8)
    crop, face_found = crop_face(rgb)
    assert not face_found
    assert crop.shape == (120, 120, 3)


def test_detected_face_is_cropped_with_margin():
    # Some synthetic drawings are found by the Haar cascade; pick one deterministically.
    for i in range(60):
        rgb = synthetic.generate_image(i % 5, i)
        crop, face_found = crop_face(rgb)
        if face_found:
            assert crop.shape[0] == crop.shape[1]
            assert crop.shape[0] <= rgb.shape[0]
            return
    raise AssertionError("the cascade found no face in 60 synthetic images")


def test_model_input_shapes_and_scaling():
    rgb = synthetic.generate_image(0, 0)
    x, _ = prepare(rgb, InputSpec(size=32, mode="rgb"))
    assert x.shape == (32 * 32 * 3,) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    g, _ = prepare(rgb, InputSpec(size=48, mode="gray"))
    assert g.shape == (48 * 48,)


def test_training_and_serving_give_identical_inputs(tmp_path):
    """Serving reads the stored JPEG from disk; training reads arrays. Same path, same result."""
    from PIL import Image

    from inference.preprocessing import load_rgb
    from training.features import preprocess_many

    rgb = synthetic.generate_image(2, 7)
    path = tmp_path / "x.png"
    Image.fromarray(rgb).save(path)
    spec = InputSpec(size=32, mode="rgb")
    served, _ = prepare(load_rgb(path), spec)
    trained, _ = preprocess_many([rgb], spec)
    np.testing.assert_array_equal(served, trained[0])


def test_to_model_input_is_deterministic():
    crop = synthetic.generate_image(1, 1)
    spec = InputSpec(size=32)
    np.testing.assert_array_equal(to_model_input(crop, spec), to_model_input(crop, spec))


def test_cropping_at_a_known_box_is_cropping_after_finding_it():
    from inference.preprocessing import crop_at, crop_face, detect_face
    from training import synthetic

    for rgb in (synthetic.generate_image(g, 3, split="gallery") for g in range(5)):
        crop, found = crop_face(rgb)
        again, found_again = crop_at(rgb, detect_face(rgb))
        np.testing.assert_array_equal(crop, again)
        assert found == found_again


def _photo_with_face(i: int, share: float, size=(640, 480)) -> np.ndarray:
    """A generated face drawn at `share` of the photo's height, somewhere in a textured scene."""
    import cv2

    width, height = size
    rng = np.random.default_rng(i)
    scene = cv2.resize(rng.normal(150, 30, (60, 80, 3)).clip(0, 255).astype(np.uint8), size)
    side = int(height * share)
    top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
    face = synthetic.generate_image(i % 5, i, split="gallery")
    scene[top : top + side, left : left + side] = cv2.resize(face, (side, side))
    return scene


def _one_search(rgb: np.ndarray):
    """The largest face the cascade finds in one search from the smallest face size down, as it
    always searched (what detect_face keeps)."""
    import cv2

    from inference import preprocessing

    gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    least = max(24, int(min(gray.shape) * preprocessing.HAAR_LOOKS[-1]))
    faces = preprocessing._cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(least, least))
    return _largest(faces)


def _largest(faces):
    return tuple(int(v) for v in max(faces, key=lambda f: int(f[2]) * int(f[3]))) if len(faces) else None


def test_searching_the_large_windows_first_finds_the_largest_face_one_search_finds():
    """The face search looks at the largest windows first and stops once smaller windows cannot
    change the largest face: it must be the face, and the box, one whole search gives, for faces
    of every size (small ones, ones near where a look stops, large ones) and photos without one."""
    from inference import preprocessing

    found = 0
    for i in range(6):
        for share in (0.14, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8):
            rgb = _photo_with_face(i, share)
            expected = _one_search(rgb)
            assert _largest(preprocessing._haar_faces(rgb)) == expected, (i, share)
            found += expected is not None
    assert found >= 12  # the comparison covered faces, not just empty photos


def test_a_face_whose_group_smaller_windows_could_join_is_not_settled():
    """Windows group in chains: a face of 145 px made of windows down to 99 px is not settled at a
    96 px floor, because windows under 96 px (which one whole search also sees) can join its
    group through its 99-132 px members and move its box; the same face of larger windows is."""
    import cv2

    from inference import preprocessing

    def square(side):
        return [200 - side // 2, 200 - side // 2, side, side]

    large = [square(160)] * 8 + [square(s) for s in (145, 132, 120, 109, 99)]
    face = preprocessing._grouped(large)
    assert len(face) == 1 and not preprocessing._largest_is_settled(large, face, 96)
    whole, _ = cv2.groupRectangles(large + [square(90)] + [square(82)] * 5, 5, 0.2)
    assert _largest(whole) != _largest(face)  # what stopping there would have got wrong
    settled = [square(160)] * 8 + [square(s) for s in (150, 145, 140)]
    assert preprocessing._largest_is_settled(settled, preprocessing._grouped(settled), 96)


def test_a_large_face_is_found_without_the_small_windows(monkeypatch):
    """The point of looking at large windows first: a large face costs one look at them."""
    from inference import preprocessing

    looks = []
    real = preprocessing._haar_windows
    monkeypatch.setattr(preprocessing, "_haar_windows", lambda *a: looks.append(a[1:]) or real(*a))
    one_look = 0
    for i in range(10):
        looks.clear()
        rgb = _photo_with_face(i, 0.8)
        faces = preprocessing._haar_faces(rgb)
        one_look += looks == [(120, 0)]
        assert _largest(faces) == _one_search(rgb)
    assert one_look >= 3, one_look
