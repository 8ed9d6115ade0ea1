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
    return predict_photos(model_version=model_version, sources=[source])[0]


def predict_photos(*, model_version: ModelVersion, sources: list) -> list[Outcome]:
    """Run one model on several photos as one batch (VGG-Face amortises its cost this way)."""
    import numpy as np

    from .preprocessing import InputSpec, load_rgb, prepare
    from .registry import get_predictor

    started = time.perf_counter()
    predictor = get_predictor(model_version)
    spec = InputSpec.from_dict(model_version.input_spec)
    prepared = [prepare(load_rgb(source), spec) for source in sources]
    batch = np.stack([x for x, _ in prepared])
    probs = predictor.predict_proba(batch)
    labels = model_version.label_set.labels
    per_photo_ms = round((time.perf_counter() - started) * 1000 / len(sources), 1)
    return [
        Outcome(
            label=labels[int(p.argmax())],
            probabilities={label: round(float(v), 4) for label, v in zip(labels, p, strict=True)},
            face_found=face_found,
            latency_ms=per_photo_ms,
        )
        for p, (_, face_found) in zip(probs, prepared, strict=True)
    ]
