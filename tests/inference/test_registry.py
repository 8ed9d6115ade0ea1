import pytest

from inference import registry
from inference.artifacts import store_path
from inference.predictors import ModelArtifactError


@pytest.fixture(autouse=True)
def _fresh_cache():
    registry.clear_cache()
    yield
    registry.clear_cache()


def test_model_is_loaded_once_per_process(demo_models):
    balanced, _ = demo_models
    assert registry.get_predictor(balanced) is registry.get_predictor(balanced)


def test_checksum_mismatch_is_refused(demo_models):
    balanced, _ = demo_models
    balanced.sha256 = "0" * 64
    with pytest.raises(ModelArtifactError, match="checksum"):
        registry.get_predictor(balanced)


def test_missing_file_is_reported(demo_models):
    balanced, _ = demo_models
    balanced.artifact_path = "mlp/does-not-exist.skops"
    with pytest.raises(ModelArtifactError, match="missing"):
        registry.get_predictor(balanced)


def test_probabilities_follow_label_set_order(demo_models):
    import numpy as np

    balanced, _ = demo_models
    predictor = registry.get_predictor(balanced)
    probs = predictor.predict_proba(np.random.default_rng(0).random((3, predictor.spec.flat_length)))
    assert probs.shape == (3, 5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    assert store_path(balanced.artifact_path).is_file()
