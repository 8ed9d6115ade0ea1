"""Saliency maps that mean something: a model whose label depends only on one region must be
found looking there, a model with randomised weights must look elsewhere, and Grad-CAM on the
tiny VGG-Face of the tests runs the code path of the full model (predictor, trunk, fc layers)."""

import numpy as np
import pytest

from inference.preprocessing import InputSpec
from inference.saliency import GRADCAM, OCCLUSION, occlusion

MLP_SPEC = InputSpec(size=32, mode="rgb")
DARK = (0.05, 0.2)  # the VGG test's background: the patch stands out through the random base's features


def patch_images(n: int, size: int, seed: int, background=(0.35, 0.5)):
    """Grey noise; label 1 when a bright square sits in the top-left quarter, else 0. Only that
    region decides the label."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(*background, (n, size, size, 3)).astype(np.float32)
    y = np.arange(n) % 2
    side = size // 4
    x[y == 1, side // 2 : side // 2 + side, side // 2 : side // 2 + side, :] = 1.0
    return x, y


def quarter_means(grid) -> dict[str, float]:
    g = np.asarray(grid, dtype=float)
    h, w = g.shape
    return {
        "top-left": g[: h // 2, : w // 2].mean(),
        "top-right": g[: h // 2, w // 2 :].mean(),
        "bottom-left": g[h // 2 :, : w // 2].mean(),
        "bottom-right": g[h // 2 :, w // 2 :].mean(),
    }


def peak_in_top_left(grid) -> bool:
    """The map's strongest cell lies in the quarter that holds the deciding patch (strictly: a
    flat or empty map does not pass)."""
    g = np.asarray(grid, dtype=float)
    h, w = g.shape[0] // 2, g.shape[1] // 2
    outside = max(g[:h, w:].max(), g[h:, :].max())
    return g[:h, :w].max() > max(outside, 0)


def correlation(a, b) -> float:
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    assert a.std() > 0 and b.std() > 0, "a flat map: nothing to compare"
    return float(np.corrcoef(a, b)[0, 1])


@pytest.fixture(scope="module")
def mlp_predictor(tmp_path_factory):
    from inference.predictors import MLPPredictor
    from training.trainers.mlp import fit_mlp, save_mlp

    x, y = patch_images(300, 32, seed=1)
    model = fit_mlp(x.reshape(len(x), -1), y, seed=0, hidden_layer_sizes=(32,), max_iter=80, standardize=True)
    path = tmp_path_factory.mktemp("saliency") / "patch.skops"
    save_mlp(model, path)
    predictor = MLPPredictor(path, MLP_SPEC, 2)
    predictor.load()
    return predictor


def test_mlp_occlusion_finds_the_region_that_decides_the_label(mlp_predictor):
    x, _ = patch_images(2, 32, seed=7)
    image = x[1]  # has the patch
    assert mlp_predictor.predict_proba(image.reshape(1, -1))[0, 1] > 0.9
    m = occlusion(mlp_predictor.predict_proba, image.reshape(-1), MLP_SPEC, target=1)
    assert m.method == OCCLUSION and len(m.grid) == 8 and len(m.grid[0]) == 8
    quarters = quarter_means(m.grid)
    assert quarters["top-left"] > max(v for k, v in quarters.items() if k != "top-left"), quarters
    assert peak_in_top_left(m.grid), m.grid
    assert m.params == {"patch": 4, "stride": 4, "input": 32, "grey": 0.5, "baseline": m.params["baseline"]}


def test_mlp_map_does_not_survive_randomised_weights(mlp_predictor, tmp_path):
    import copy

    from inference.predictors import MLPPredictor
    from training.trainers.mlp import save_mlp

    x, _ = patch_images(2, 32, seed=7)
    trained = occlusion(mlp_predictor.predict_proba, x[1].reshape(-1), MLP_SPEC, target=1)
    randomised = copy.deepcopy(mlp_predictor.model)
    mlp = randomised.steps[-1][1]
    rng = np.random.default_rng(3)
    mlp.coefs_ = [rng.normal(0, np.std(c), c.shape) for c in mlp.coefs_]
    path = tmp_path / "random.skops"
    save_mlp(randomised, path)
    other = MLPPredictor(path, MLP_SPEC, 2)
    other.load()
    after = occlusion(other.predict_proba, x[1].reshape(-1), MLP_SPEC, target=1)
    assert correlation(trained.grid, after.grid) < 0.5, (trained.grid, after.grid)


@pytest.fixture
def vgg_patch_model(db):
    """A VGG-Face head (tiny random base, the real head-training path) whose label depends only on
    the top-left patch."""
    from inference.services import ensure_label_set
    from tests.vgg_files import TINY
    from training.image_sets import ImageSet
    from training.services.vgg import ensure_random_base, train_vgg_head

    def image_set(n, seed):
        x, y = patch_images(n, 224, seed, background=DARK)
        return ImageSet(
            ids=[f"patch:{seed}:{i}" for i in range(n)], labels=y, load=lambda i: (x[i] * 255).astype(np.uint8)
        )

    labels = ensure_label_set(key="patch-test", name="Patch", labels=["plain", "patch"], synthetic=True)
    return train_vgg_head(
        base=ensure_random_base(width=TINY),
        label_set=labels,
        train=image_set(40, 1),
        test=image_set(10, 2),
        key="patch-vgg",
        name="Patch VGG",
        data_source="generated",
        synthetic_data=True,
        epochs=40,
    )


def test_vgg_gradcam_and_occlusion_find_the_region_and_not_after_randomising(vgg_patch_model):
    from inference.registry import get_predictor

    predictor = get_predictor(vgg_patch_model)
    assert predictor.saliency_methods[0] == GRADCAM
    x, _ = patch_images(2, 224, seed=9, background=DARK)
    image = x[1:2]
    assert predictor.predict_proba(image)[0, 1] > 0.5
    spec = InputSpec(size=224, mode="rgb", layout="hwc")
    _, [cam] = predictor.predict_and_explain(image, [True])  # the preferred method: Grad-CAM on conv5_3
    assert cam.method == GRADCAM and len(cam.grid) == 14 and cam.params["layer"] == "conv5_3"
    assert peak_in_top_left(cam.grid), cam.grid
    # Occlusion runs on this family too (off in serving: one forward pass per cell); coarse cells here
    # hide the patch whole, as a model this unsure (about 65%) barely reacts to half a patch.
    occ = occlusion(predictor.predict_proba, image[0], spec, target=1, grid=4)
    assert occ.method == OCCLUSION and len(occ.grid) == 4 and peak_in_top_left(occ.grid), occ.grid

    # Randomise the trained head: a map that survived this would explain nothing.
    rng = np.random.default_rng(5)
    for variable in predictor.tail.model.weights:
        variable.assign(rng.normal(0, 0.05, variable.shape).astype("float32"))
    _, [after] = predictor.predict_and_explain(image, [True])
    assert correlation(cam.grid, after.grid) < 0.5


def test_vgg_answers_with_maps_are_the_answers_without(vgg_patch_model):
    """Grad-CAM comes from the same pass through the convolutions as the answer: the answer it
    gives must be the plain forward's, and images not asked for get no map."""
    from inference.registry import get_predictor

    predictor = get_predictor(vgg_patch_model)
    x, _ = patch_images(3, 224, seed=4, background=DARK)
    plain = predictor.predict_proba(x)
    probs, maps = predictor.predict_and_explain(x, [True, False, True])
    assert np.allclose(probs, plain, atol=1e-5)
    assert maps[1] is None and maps[0].method == GRADCAM and maps[2].params["target"] == int(plain[2].argmax())


def test_vgg_maps_made_for_a_batch_are_each_images_own(vgg_patch_model):
    """A batch's Grad-CAM maps come from one gradient of the batch's summed scores: each image's
    map must be the one it gets alone (no image's score may reach another's gradient)."""
    from inference.registry import get_predictor

    predictor = get_predictor(vgg_patch_model)
    x, _ = patch_images(3, 224, seed=11, background=DARK)
    probs, maps = predictor.predict_and_explain(x, [True, True, True])
    for i in range(3):
        alone_probs, [alone] = predictor.predict_and_explain(x[i : i + 1], [True])
        np.testing.assert_allclose(probs[i], alone_probs[0], atol=1e-5)
        assert maps[i].params == alone.params
        np.testing.assert_allclose(maps[i].grid, alone.grid, atol=2e-3)
        assert np.asarray(alone.grid).max() > 0.5  # a map with something in it
    _, probs_and_grads = predictor._gradcam_fn()
    assert probs_and_grads.experimental_get_tracing_count() == 1  # one graph for every batch size


@pytest.mark.django_db
def test_mlp_maps_from_the_first_layer_shortcut_are_the_maps_of_the_whole_copies(mlp_predictor, demo_models):
    """The MLP's occlusion runs its masked copies through the first layer only where they differ
    from the photo; the map must be the one running every whole copy gives (a lab model behind a
    scaler with two classes, and a demo model with five)."""
    from inference.registry import get_predictor

    demo = get_predictor(demo_models[1])
    for predictor, (image, _) in ((mlp_predictor, patch_images(2, 32, seed=7)), (demo, patch_images(2, 32, seed=3))):
        x = image[1].reshape(1, -1)
        probs, [fast] = predictor.predict_and_explain(x, [True])
        whole = occlusion(predictor.predict_proba, x[0], predictor.spec, int(probs[0].argmax()))
        assert fast.params == whole.params
        np.testing.assert_allclose(fast.grid, whole.grid, atol=2e-4)
        assert np.abs(np.asarray(whole.grid)).max() > 1e-3  # a map with something in it
