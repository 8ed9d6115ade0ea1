"""Inference workflows: register model versions, run a model on a stored photo.

Heavy libraries (OpenCV, scikit-learn, later TensorFlow) are imported inside
functions so the web process, which imports this module, stays light.
"""

import logging
import time
from dataclasses import dataclass

from django.db import transaction

from .models import LabelSet, ModelVersion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    label: str
    probabilities: dict[str, float]
    face_found: bool
    latency_ms: float
    saliency: dict | None = None  # inference.saliency.SaliencyMap.as_dict(): a grid, never an image


def ensure_label_set(*, key: str, name: str, labels: list[str], synthetic: bool, description: str = "") -> LabelSet:
    label_set, created = LabelSet.objects.get_or_create(
        key=key, defaults={"name": name, "labels": labels, "synthetic": synthetic, "description": description}
    )
    if not created and list(label_set.labels) != list(labels):
        raise ValueError(f"Label set '{key}' already exists with different labels {label_set.labels}.")
    return label_set


@transaction.atomic
def register_model_version(*, key: str, **fields) -> ModelVersion:
    """Register a model under `key`; never change one that exists. Training or importing under a
    key again registers the next version (`<key>-v2`, `-v3`, ...) of the same lineage and makes
    it the active one; earlier versions keep their files and rows, so every stored answer stays
    attributed to the model that gave it, and the experiments made with them keep them.

    Unless told, a model a teacher trained is theirs and one installed by an operator is built-in."""
    if "scope" not in fields:
        fields["scope"] = ModelVersion.Scope.TEACHER if fields.get("created_by") else ModelVersion.Scope.BUILTIN
    lineage = ModelVersion.objects.select_for_update().filter(lineage=key).order_by("-version")
    latest = lineage.first()
    if latest is None:
        return ModelVersion.objects.create(key=key, lineage=key, version=1, **fields)
    version = latest.version + 1
    new_key = f"{key}-v{version}"
    if ModelVersion.objects.filter(key=new_key).exists():
        raise ValueError(f"A model with the key {new_key} exists outside this lineage; choose another key.")
    lineage.filter(active=True).update(active=False)
    return ModelVersion.objects.create(key=new_key, lineage=key, version=version, **fields)


def latest_version(key: str) -> ModelVersion | None:
    """The newest version of the lineage that started as `key`."""
    return ModelVersion.objects.filter(lineage=key).order_by("-version").select_related("base", "label_set").first()


@dataclass(frozen=True, eq=False)
class FacePhoto:
    """A photo decoded and face-cropped once, ready for any number of models."""

    name: str
    crop: "object"  # np.ndarray; numpy is not imported at module level here
    face_found: bool
    load_ms: float
    box: list[int]  # where the face is, [x, y, w, h], or [] when none was found
    detected: bool = True  # False when the box was given, not looked for here


def load_face_photo(source, *, name: str = "", box: list[int] | None = None) -> FacePhoto:
    """Decode a stored photo (path or file object) and crop its face, as every model's input starts.

    `box`: where the face was already found in this photo (as FacePhoto.box): finding a face
    in a phone photo takes longer than decoding it, and gives the same box every time."""
    from .preprocessing import crop_at, detect_face, load_rgb

    started = time.perf_counter()
    rgb = load_rgb(source)
    found = detect_face(rgb) if box is None else (tuple(box) or None)
    crop, face_found = crop_at(rgb, found)
    return FacePhoto(
        name=name or str(getattr(source, "name", source)),
        crop=crop,
        face_found=face_found,
        load_ms=(time.perf_counter() - started) * 1000,
        box=list(found or ()),
        detected=box is None,
    )


def predict_photos(*, model_version: ModelVersion, sources: list, explain: list[bool] | None = None) -> list[Outcome]:
    """Run one model on several photos as one batch (VGG-Face amortises its cost this way).

    Sources are paths, file objects or FacePhotos already loaded (a photo that
    several models look at is decoded and face-detected once). `explain[i]`: also make a
    saliency map of photo i, while it is in memory (a failed map never fails the answer)."""
    import numpy as np

    from .preprocessing import InputSpec, to_model_input
    from .registry import get_predictor

    started = time.perf_counter()
    predictor = get_predictor(model_version)
    preloaded = [isinstance(s, FacePhoto) for s in sources]
    photos = [s if pre else load_face_photo(s) for s, pre in zip(sources, preloaded, strict=True)]
    spec = InputSpec.from_dict(model_version.input_spec)
    batch = np.stack([to_model_input(photo.crop, spec) for photo in photos])
    probs, maps = _answers_and_maps(predictor, batch, explain or [False] * len(photos), model_version.key)
    labels = model_version.label_set.labels
    probs = in_label_set_order(probs, model_version)
    per_photo_ms = (time.perf_counter() - started) * 1000 / len(photos)
    return [
        Outcome(
            label=labels[int(p.argmax())],
            probabilities={label: round(float(v), 4) for label, v in zip(labels, p, strict=True)},
            face_found=photo.face_found,
            # Preprocessing included, also when the photo was loaded once for several models.
            latency_ms=round(per_photo_ms + (photo.load_ms if pre else 0), 1),
            saliency=m,
        )
        for p, photo, pre, m in zip(probs, photos, preloaded, maps, strict=True)
    ]


def in_label_set_order(probs, model_version: ModelVersion):
    """Columns in the label set's order: an imported file may list its classes in another order
    (`training_params["output_labels"]`, inference.label_sets)."""
    order = (model_version.training_params or {}).get("output_labels")
    labels = list(model_version.label_set.labels)
    if not order or list(order) == labels:
        return probs
    import numpy as np

    out = np.zeros_like(probs)
    out[:, [labels.index(label) for label in order]] = probs
    return out


def _answers_and_maps(predictor, batch, wanted: list[bool], key: str):
    """The batch's probabilities, and a saliency map per wanted photo (as a dict) or None. A map
    that cannot be made is logged and the answers are made without: never a failed answer."""
    if not any(wanted):
        return predictor.predict_proba(batch), [None] * len(wanted)
    try:
        probs, maps = predictor.predict_and_explain(batch, wanted)
    except Exception:
        log.exception("Saliency maps for model %s failed; answering without them", key)
        return predictor.predict_proba(batch), [None] * len(wanted)
    return probs, [m.as_dict() if m is not None else None for m in maps]
