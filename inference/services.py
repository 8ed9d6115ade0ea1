"""Inference workflows: register model versions, run a model on a stored photo.

Heavy libraries (OpenCV, scikit-learn, later TensorFlow) are imported inside
functions so the web process, which imports this module, stays light.
"""

import logging
import time
from dataclasses import dataclass, field

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
    precision: str = ""  # the number format the model computed in (VGG-Face: float32 or bfloat16)


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


@dataclass(eq=False)
class FacePhoto:
    """A photo decoded once, its face found once per detector, ready for any number of models
    (models on different detectors each get the crop their training used)."""

    name: str
    rgb: "object"  # np.ndarray; numpy is not imported at module level here
    load_ms: float
    boxes: dict = field(default_factory=dict)  # detector -> [x, y, w, h], or [] when it found none
    found_here: set = field(default_factory=set)  # detectors that looked in this process
    _crops: dict = field(default_factory=dict, repr=False)

    def crop(self, detector: str = "haar") -> tuple["object", bool]:
        """(the square crop for this detector, whether it found a face)."""
        if detector not in self._crops:
            from . import preprocessing

            if detector not in self.boxes:  # timed with the model's answer that needed it
                self.boxes[detector] = list(preprocessing.detect_face(self.rgb, detector) or ())
                self.found_here.add(detector)
            self._crops[detector] = preprocessing.crop_at(self.rgb, tuple(self.boxes[detector]) or None)
        return self._crops[detector]


def load_face_photo(source, *, name: str = "", boxes: dict | None = None) -> FacePhoto:
    """Decode a stored photo (path or file object); its face is found per detector when a model
    first needs it. `boxes`: where faces were already found in this photo ({detector: box}, as
    FacePhoto.boxes): finding a face in a phone photo takes longer than decoding it, and gives
    the same box every time."""
    from .preprocessing import load_rgb

    started = time.perf_counter()
    rgb = load_rgb(source)
    return FacePhoto(
        name=name or str(getattr(source, "name", source)),
        rgb=rgb,
        load_ms=(time.perf_counter() - started) * 1000,
        boxes=dict(boxes or {}),
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
    crops = [photo.crop(spec.detector) for photo in photos]  # the detector the model was trained with
    batch = np.stack([to_model_input(crop, spec) for crop, _ in crops])
    probs, maps = _answers_and_maps(predictor, batch, explain or [False] * len(photos), model_version.key)
    labels = model_version.label_set.labels
    probs = in_label_set_order(probs, model_version)
    per_photo_ms = (time.perf_counter() - started) * 1000 / len(photos)
    return [
        Outcome(
            label=labels[int(p.argmax())],
            probabilities={label: round(float(v), 4) for label, v in zip(labels, p, strict=True)},
            face_found=found,
            # Preprocessing included, also when the photo was loaded once for several models.
            latency_ms=round(per_photo_ms + (photo.load_ms if pre else 0), 1),
            saliency=m,
            precision=predictor.precision,
        )
        for p, photo, (_, found), pre, m in zip(probs, photos, crops, preloaded, maps, strict=True)
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
