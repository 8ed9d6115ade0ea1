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
