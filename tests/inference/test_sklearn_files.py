"""MLP files are skops, never pickle: a foreign or tampered file is refused with a clear message,
and the pickles an earlier version wrote are converted by a migration."""

import importlib
import os

import joblib
import numpy as np
import pytest
from django.apps import apps

from inference import sklearn_files
from inference.artifacts import sha256_file, store_path
from inference.predictors import MLPPredictor, ModelArtifactError
from inference.preprocessing import InputSpec
from training.trainers.mlp import fit_mlp, save_mlp

SPEC = InputSpec(size=4, mode="gray")


def small_mlp(standardize=False):
    rng = np.random.default_rng(0)
    return fit_mlp(
        rng.random((30, 16)), np.arange(30) % 3, hidden_layer_sizes=(4,), max_iter=5, standardize=standardize
    )


@pytest.mark.parametrize("standardize", [False, True])
def test_a_trained_mlp_round_trips(tmp_path, standardize):
    path = tmp_path / "m.skops"
    save_mlp(small_mlp(standardize), path)
    predictor = MLPPredictor(path, SPEC, 3)
    predictor.load()
    assert predictor.predict_proba(np.zeros((2, 16))).shape == (2, 3)


def test_a_file_with_a_foreign_type_is_refused_by_name(tmp_path):
    import skops.io as sio
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    path = tmp_path / "evil.skops"
    sio.dump(make_pipeline(FunctionTransformer(os.system), small_mlp()), path)  # would run a command
    predictor = MLPPredictor(path, SPEC, 3)
    with pytest.raises(ModelArtifactError, match=r"contains .*posix\.system.*It was not loaded"):
        predictor.load()


def test_a_pickle_is_never_loaded(tmp_path):
    disguised = tmp_path / "pickle.skops"
    joblib.dump(small_mlp(), disguised)
    with pytest.raises(ModelArtifactError, match="not a model file in skops format"):
        MLPPredictor(disguised, SPEC, 3).load()
    old = tmp_path / "old.joblib"
    joblib.dump(small_mlp(), old)
    with pytest.raises(ModelArtifactError, match="old pickle file.*manage.py migrate"):
        MLPPredictor(old, SPEC, 3).load()


def test_the_migration_converts_this_installations_pickles_only(demo_models, django_capture_on_commit_callbacks):
    migration = importlib.import_module("inference.migrations.0004_mlp_files_to_skops")
    balanced, unbalanced = demo_models
    for mv in (balanced, unbalanced):  # as an earlier version stored them
        model = sklearn_files.load(store_path(mv.artifact_path))
        mv.artifact_path = f"mlp/{mv.key}-legacy.joblib"
        joblib.dump(model, store_path(mv.artifact_path))
        mv.sha256 = sha256_file(store_path(mv.artifact_path))
        mv.save()
    with open(store_path(unbalanced.artifact_path), "ab") as fh:
        fh.write(b"changed")  # no longer what this installation wrote
    with django_capture_on_commit_callbacks(execute=True):
        migration.forwards(apps, None)
    balanced.refresh_from_db()
    unbalanced.refresh_from_db()
    assert (
        balanced.artifact_path.endswith(".skops") and sha256_file(store_path(balanced.artifact_path)) == balanced.sha256
    )
    assert not store_path(f"mlp/{balanced.key}-legacy.joblib").exists()
    assert unbalanced.artifact_path.endswith("-legacy.joblib")  # left alone: its load will say why
    predictor = MLPPredictor(store_path(balanced.artifact_path), InputSpec.from_dict(balanced.input_spec), 5)
    predictor.load()
