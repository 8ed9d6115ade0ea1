"""Per-process cache of loaded predictors.

Workers load each model version once and reuse it for every task; the file's
sha256 is checked against the registry before the first use.
"""

import threading
from pathlib import Path

from .artifacts import sha256_file, store_path
from .models import ModelVersion
from .predictors import PREDICTORS, ModelArtifactError, Predictor
from .preprocessing import InputSpec

_cache: dict[tuple[int, str], Predictor] = {}
_lock = threading.Lock()


def get_predictor(model_version: ModelVersion) -> Predictor:
    key = (model_version.pk, model_version.sha256)
    with _lock:
        predictor = _cache.get(key)
        if predictor is None:
            predictor = _load(model_version)
            _cache[key] = predictor
        return predictor


def warm_up(model_versions) -> list[str]:
    """Load these models into this process and run each once, before any photo arrives.
    Returns a message for each model that could not be loaded (the worker still starts:
    its tasks then report the problem on the predictions)."""
    from .preprocessing import warm_up as warm_up_preprocessing

    warm_up_preprocessing()
    problems = []
    for mv in model_versions:
        try:
            get_predictor(mv).warm_up()
        except Exception as exc:  # noqa: BLE001 - reported, and again on each prediction
            problems.append(f"{mv.key}: {exc}")
    return problems


def verified_path(name: str, relative: str, sha256: str) -> Path:
    """The artifact's path, after checking it exists and matches its checksum."""
    path = store_path(relative)
    if not path.is_file():
        raise ModelArtifactError(
            f"The file for '{name}' is missing from the model store ({relative}). "
            "Re-run the command that created it (for the demo: manage.py train_demo_models)."
        )
    if sha256_file(path) != sha256:
        raise ModelArtifactError(
            f"The file for '{name}' does not match its recorded checksum; it was changed "
            "or damaged after registration. Re-create or re-import the model."
        )
    return path


def _load(mv: ModelVersion) -> Predictor:
    path = verified_path(mv.name, mv.artifact_path, mv.sha256)
    cls = PREDICTORS.get(mv.family)
    if cls is None:
        raise ModelArtifactError(f"No predictor for model family '{mv.family}'.")
    base = mv.base
    predictor = cls(
        path,
        InputSpec.from_dict(mv.input_spec),
        len(mv.label_set.labels),
        base_path=verified_path(base.name, base.artifact_path, base.sha256) if base else None,
        width=base.width if base else mv.training_params.get("width", 1.0),
    )
    predictor.load()
    return predictor


def clear_cache() -> None:
    with _lock:
        _cache.clear()
