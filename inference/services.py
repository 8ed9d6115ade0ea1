"""Inference workflows: register model versions, run a model on a stored photo.

Heavy libraries (OpenCV, scikit-learn, later TensorFlow) are imported inside
functions so the web process, which imports this module, stays light.
"""

import time
from dataclasses import dataclass

from django.db import transaction

from .models import LabelSet, ModelVersion


@dataclass(frozen=True)
class Outcome:
    label: str
    probabilities: dict[str, float]
    face_found: bool
    latency_ms: float


def ensure_label_set(*, key: str, name: str, labels: list[str], synthetic: bool, description: str = "") -> LabelSet:
    label_set, created = LabelSet.objects.get_or_create(
        key=key, defaults={"name": name, "labels": labels, "synthetic": synthetic, "description": description}
    )
    if not created and list(label_set.labels) != list(labels):
        raise ValueError(f"Label set '{key}' already exists with different labels {label_set.labels}.")
    return label_set


@transaction.atomic
def register_model_version(*, key: str, **fields) -> ModelVersion:
    """Create or replace the registry entry for `key` (re-training the demo replaces it)."""
    mv, _ = ModelVersion.objects.update_or_create(key=key, defaults=fields)
    return mv


def predict_photo(*, model_version: ModelVersion, source) -> Outcome:
    """Run one model on one stored photo (path or file object)."""
    from .preprocessing import InputSpec, load_rgb, prepare
    from .registry import get_predictor

    started = time.perf_counter()
    predictor = get_predictor(model_version)
    rgb = load_rgb(source)
    x, face_found = prepare(rgb, InputSpec.from_dict(model_version.input_spec))
    probs = predictor.predict_proba(x[None, :])[0]
    labels = model_version.label_set.labels
    best = int(probs.argmax())
    return Outcome(
        label=labels[best],
        probabilities={label: round(float(p), 4) for label, p in zip(labels, probs, strict=True)},
        face_found=face_found,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )
