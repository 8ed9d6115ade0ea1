"""Per-process cache of loaded predictors.

Workers load each model version once and reuse it for every task; the file's
sha256 is checked against the registry before the first use. A VGG-Face model
holds about 540 MB of weights, so a process keeps at most
MODELS_PER_WORKER["vgg"] of those with large layers of their own, dropping the
least recently used (heads on a shared base are small and not counted).
"""

import gc
import logging
import threading
from collections import OrderedDict
from pathlib import Path

from django.conf import settings

from .artifacts import local_file, sha256_file
from .models import ModelVersion
from .predictors import PREDICTORS, ModelArtifactError, Predictor
from .preprocessing import InputSpec

log = logging.getLogger(__name__)

_cache: OrderedDict[tuple[int, str], Predictor] = OrderedDict()
_lock = threading.Lock()


def capacity(family: str) -> int | None:
    """How many models of this family one process keeps loaded (None: no limit)."""
    return settings.MODELS_PER_WORKER.get(family)


def get_predictor(model_version: ModelVersion) -> Predictor:
    base = model_version.base
    # A retrained model, or one whose base was imported again, is a new entry.
    key = (model_version.pk, model_version.sha256, base.sha256 if base else "")
    with _lock:
        predictor = _cache.get(key)
        if predictor is None:
            paths = _verified_paths(model_version)  # before anything is dropped: a damaged file costs no reloads
            for old in [k for k in _cache if k[0] == model_version.pk]:
                del _cache[old]  # this model's earlier version
            _make_room(model_version)
            predictor = _load(model_version, *paths)
            predictor.large = _is_large(model_version)
            _cache[key] = predictor
        _cache.move_to_end(key)
        return predictor


def _is_large(model_version: ModelVersion) -> bool:
    """Whether the model's own file holds large layers (fc6 and up). A head trained on a
    base's features is small: it shares the base's layers with the other heads."""
    try:
        path = local_file(model_version.artifact_path)
    except Exception:  # noqa: BLE001 - not fetched: loading it says why (verified_path)
        return False
    return path.is_file() and path.stat().st_size > LARGE_ARTIFACT_BYTES


LARGE_ARTIFACT_BYTES = 50 * 1024 * 1024


def _make_room(model_version: ModelVersion) -> None:
    """Drop the least recently used large models of the family so this one fits (before
    loading it, so two large models are never held at once)."""
    limit = capacity(model_version.family)
    if limit is None or not _is_large(model_version):
        return
    same = [key for key, p in _cache.items() if p.family == model_version.family and p.large]  # oldest first
    for key in same[: max(0, len(same) - limit + 1)]:
        del _cache[key]
    gc.collect()  # Keras models hold reference cycles; free their weights now


def warm_up(model_versions) -> tuple[list[str], list[str]]:
    """Load these models into this process (as many as fit) and run each once, before any
    photo arrives. Returns the keys loaded, and a message for each model that could not be
    loaded (the worker still starts: its tasks then report the problem on the predictions)."""
    from .preprocessing import warm_up as warm_up_preprocessing

    detectors = {(mv.input_spec or {}).get("detector", "haar") for mv in model_versions}
    warm_up_preprocessing(detectors)
    loaded, problems, per_family = [], [], {}
    for mv in model_versions:
        if capacity(mv.family) is not None and _is_large(mv):
            per_family[mv.family] = per_family.get(mv.family, 0) + 1
            if per_family[mv.family] > capacity(mv.family):
                continue  # loaded on first use instead, in place of another
        try:
            get_predictor(mv).warm_up()
        except Exception as exc:  # noqa: BLE001 - reported, and again on each prediction
            problems.append(f"{mv.key}: {exc}")
        else:
            loaded.append(mv.key)
    return loaded, problems


def verified_path(name: str, relative: str, sha256: str) -> Path:
    """The artifact's path on this machine (fetched from the object storage if need be), after
    checking it exists and matches its checksum."""
    try:
        path = local_file(relative)
    except Exception as exc:  # the object storage unreachable, or refusing this machine's keys
        raise ModelArtifactError(
            f"The file for '{name}' could not be fetched from the object storage ({exc.__class__.__name__}). "
            "Check that this machine reaches it with the right ETHITECH_S3_* settings."
        ) from exc
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


def _verified_paths(mv: ModelVersion) -> tuple[Path, Path | None]:
    """The model's file and its base's, checked against their checksums."""
    base = mv.base
    path = verified_path(mv.name, mv.artifact_path, mv.sha256)
    return path, verified_path(base.name, base.artifact_path, base.sha256) if base else None


def _load(mv: ModelVersion, path: Path, base_path: Path | None, precision: str | None = None) -> Predictor:
    """The model loaded in `precision` (VGG-Face), or when serving (None) in this process's one
    choice: int8 only where the model's answers agree with float32's (inference.int8_gate)."""
    cls = PREDICTORS.get(mv.family)
    if cls is None:
        raise ModelArtifactError(f"No predictor for model family '{mv.family}'.")
    serving = precision is None
    if serving and mv.family == ModelVersion.Family.VGG:
        from .precision import serving_precision

        precision = serving_precision()  # the process's one choice, for every VGG-Face network
    if mv.family == ModelVersion.Family.VGG and precision == "int8":
        from .int8_predictor import Int8VGGPredictor  # ONNX Runtime, no TensorFlow

        candidate = _predictor(Int8VGGPredictor, mv, path, base_path, precision)
        found = _int8_check(mv, candidate, serving)
        if not serving or _int8_agrees(mv, found):
            candidate.checked = found
            candidate.near_tie = found.near_tie if found else 0.0  # unchecked: no second look
            try:
                candidate.load()
                return candidate
            except Exception as exc:  # noqa: BLE001 - int8 as checked (second look included), or not at all
                if not serving:
                    raise
                log.error("%s: int8 could not be loaded (%s); served in the fallback precision", mv.key, exc)
        from .precision import int8_fallback

        cls, precision = PREDICTORS[mv.family], int8_fallback()
    predictor = _predictor(cls, mv, path, base_path, precision)
    predictor.load()
    return predictor


def _predictor(cls, mv: ModelVersion, path: Path, base_path: Path | None, precision: str | None) -> Predictor:
    """The model's predictor of class `cls`, not loaded yet."""
    base = mv.base
    return cls(
        path,
        InputSpec.from_dict(mv.input_spec),
        len(mv.label_set.labels),
        base_path=base_path,
        width=base.width if base else mv.training_params.get("width", 1.0),
        precision=precision or "",
    )


def _int8_check(mv: ModelVersion, predictor: Predictor, serving: bool):
    """The model's int8 check (inference.int8_gate.Verdict, with the second look's threshold), run
    in a child process if it has not been; None where it failed, or where a worker serves int8
    unchecked (ETHITECH_VGG_INT8_MIN_AGREEMENT=0: only a check already made is used). Checked before
    the graphs are loaded, so a model that falls back never holds ONNX Runtime's sessions beside
    TensorFlow's."""
    from . import int8_gate

    if serving and settings.VGG_INT8_MIN_AGREEMENT <= 0:  # an operator who turned the check off
        return int8_gate.cached(mv, predictor)
    try:
        return int8_gate.verdict(mv, predictor)
    except Exception as exc:  # noqa: BLE001 - unchecked is not served in int8
        if not serving:
            raise
        log.error("%s: int8 not checked against float32 (%s); served in the fallback precision", mv.key, exc)
        return None


def _int8_agrees(mv: ModelVersion, found) -> bool:
    """Whether the model may be served in int8: its checked answers (with the second look) agree
    with float32's at ETHITECH_VGG_INT8_MIN_AGREEMENT (0: unchecked)."""
    bar = settings.VGG_INT8_MIN_AGREEMENT
    if bar <= 0:
        return True
    if found is None:
        return False
    if found.passes(bar):
        log.info("%s served in int8: it %s", mv.key, found.describe())
        return True
    log.warning(
        "%s: int8 %s, below the %.0f%% bar (ETHITECH_VGG_INT8_MIN_AGREEMENT): served in the fallback precision instead",
        mv.key,
        found.describe(),
        bar * 100,
    )
    return False


def load_uncached(model_version: ModelVersion, *, precision: str) -> Predictor:
    """A predictor of the model in a given precision, outside the cache (to compare precisions)."""
    return _load(model_version, *_verified_paths(model_version), precision=precision)


def clear_cache() -> None:
    with _lock:
        _cache.clear()
