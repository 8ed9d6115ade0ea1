"""Inference workflows: register model versions, run a model on a stored photo.

Heavy libraries (OpenCV, scikit-learn, later TensorFlow) are imported inside
functions so the web process, which imports this module, stays light.
"""

import logging
import threading
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
    precision: str = ""  # the number format the model computed in (VGG-Face: float32, bfloat16 or int8)


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


def prune_model_copies() -> list[str]:
    """With object storage: delete this machine's copies of model files that no model or base
    uses any more (a deleted lab model's file goes from every worker's disk too)."""
    from .artifacts import prune_cached_copies
    from .models import BaseWeights

    in_use = set(ModelVersion.objects.values_list("artifact_path", flat=True))
    in_use |= set(BaseWeights.objects.values_list("artifact_path", flat=True))
    removed = prune_cached_copies(in_use)
    if removed:
        log.info("Removed %d copied model file(s) no model uses any more", len(removed))
    return removed


PRUNE_EVERY_SECONDS = 600


def start_model_copy_pruning() -> threading.Thread | None:
    """In a worker's main process, with object storage: prune_model_copies now and every ten minutes."""
    from django.db import close_old_connections, connection

    from .artifacts import remote_store

    if remote_store() is None:
        return None

    def loop():
        while True:
            try:
                close_old_connections()
                prune_model_copies()
            except Exception:  # noqa: BLE001 - a database hiccup: try again next time
                log.exception("Pruning copied model files failed")
            finally:
                connection.close()
            time.sleep(PRUNE_EVERY_SECONDS)

    thread = threading.Thread(target=loop, name="ethitech-model-prune", daemon=True)
    thread.start()
    return thread


def latest_version(key: str) -> ModelVersion | None:
    """The newest version of the lineage that started as `key`."""
    return ModelVersion.objects.filter(lineage=key).order_by("-version").select_related("base", "label_set").first()


FACE_SEARCH_SECONDS = 3  # how long another worker waits for a face being looked for (about 60 ms)
FACE_POLL_SECONDS = 0.005
FACE_KEEP_SECONDS = 600  # the box in the shared cache (the database keeps it with the photo too)


@dataclass(eq=False)
class FacePhoto:
    """A photo decoded once, its face found once per detector, ready for any number of models
    (models on different detectors each get the crop their training used).

    A large JPEG is decoded at a reduced scale (`scale` < 1; still at least as large as face
    detection looks at); a model whose input is larger than its face crop at that scale gets the
    crop from a full-size decode instead (`data` keeps the file's bytes for it), so no model
    sees fewer pixels of the face than before. Boxes are in the stored photo's coordinates."""

    name: str
    rgb: "object"  # np.ndarray; numpy is not imported at module level here
    load_ms: float
    boxes: dict = field(default_factory=dict)  # detector -> [x, y, w, h], or [] when it found none
    found_here: set = field(default_factory=set)  # detectors that looked in this process
    scale: float = 1.0  # rgb's size against the stored photo's
    data: bytes | None = field(default=None, repr=False)  # the file, for a full-size decode
    share: bool = False  # find its face once across worker processes (a stored photo's unique name)
    wait: bool = True  # when shared: wait for a face another process is looking for, not look too
    _crops: dict = field(default_factory=dict, repr=False)
    _full_rgb: "object" = field(default=None, repr=False)

    def crop(self, detector: str = "haar", min_side: int = 0) -> tuple["object", bool]:
        """(the square crop for this detector, whether it found a face); from the full-size photo
        when the reduced one's crop would be smaller than `min_side` (the model's input)."""
        from . import preprocessing

        box = tuple(self.face(detector)) or None
        scale = self.scale
        if scale < 1 and self.data is not None and self._crop_side(box, scale) < min_side:
            scale = 1.0
        if (detector, scale) not in self._crops:
            rgb = self.rgb if scale == self.scale else self._full()
            at = tuple(int(v * scale) for v in box) if box else None
            self._crops[(detector, scale)] = preprocessing.crop_at(rgb, at)
        return self._crops[(detector, scale)]

    def face(self, detector: str = "haar") -> list:
        """Where this detector finds the face ([x, y, w, h] in the stored photo, [] for none):
        given, or looked for now (timed with the model's answer that needed it)."""
        if detector not in self.boxes:
            self.boxes[detector] = self._find(detector)
        return self.boxes[detector]

    def _find(self, detector: str) -> list:
        """Where the face is ([x, y, w, h] in the stored photo, [] for none). A shared photo's
        face is looked for by one worker process only: the first to need it says so in the shared
        cache and publishes the box there as soon as it has it; another that needs it meanwhile
        waits for that box (idle, not competing for the CPU) rather than searching again, and
        searches itself only if none comes (its finder died). A process that must not wait (the
        MLP worker, whose answers come first) looks itself when another is already looking."""
        from . import preprocessing

        key = f"face:{self.name}:{detector}"
        if self.share:
            # An unreachable cache (Redis restarting) says "look yourself": it only ever saves work.
            first = _shared_cache("add", f"{key}:finding", 1, timeout=FACE_SEARCH_SECONDS, failed=True)
            if not first and self.wait:
                deadline = time.monotonic() + FACE_SEARCH_SECONDS
                while time.monotonic() < deadline:
                    box = _shared_cache("get", key, failed=None)
                    if box is not None:
                        return list(box)
                    time.sleep(FACE_POLL_SECONDS)
        box = preprocessing.detect_face(self.rgb, detector)
        found = [round(v / self.scale) for v in box] if box else []
        self.found_here.add(detector)
        if self.share:
            _shared_cache("set", key, found, timeout=FACE_KEEP_SECONDS, failed=None)
        return found

    def _crop_side(self, box, scale: float) -> float:
        from .preprocessing import FACE_MARGIN

        height, width = self.rgb.shape[:2]
        if box is None:
            return min(height, width)
        return min(max(box[2], box[3]) * scale * (1 + 2 * FACE_MARGIN), height, width)

    def _full(self):
        if self._full_rgb is None:
            import io

            from .preprocessing import load_rgb

            self._full_rgb = load_rgb(io.BytesIO(self.data))
        return self._full_rgb


def load_face_photo(
    source, *, name: str = "", boxes: dict | None = None, share: bool = False, wait: bool = True
) -> FacePhoto:
    """Decode a stored photo (path or file object), a large JPEG at a reduced scale; its face is
    found per detector when a model first needs it. `boxes`: where faces were already found in
    this photo ({detector: box}, as FacePhoto.boxes): finding a face in a phone photo takes
    longer than decoding it, and gives the same box every time. `share`: `name` is the stored
    photo's own (random) name, and its face is looked for once across worker processes (`wait`:
    this process may wait for another's search, see FacePhoto._find)."""
    import io

    from .preprocessing import load_rgb_reduced

    started = time.perf_counter()
    if hasattr(source, "read"):
        data = source.read()
    else:
        with open(source, "rb") as fh:
            data = fh.read()
    rgb, scale = load_rgb_reduced(io.BytesIO(data))
    return FacePhoto(
        name=name or str(getattr(source, "name", source)),
        rgb=rgb,
        load_ms=(time.perf_counter() - started) * 1000,
        boxes=dict(boxes or {}),
        scale=scale,
        data=data if scale < 1 else None,
        share=share and bool(name),
        wait=wait,
    )


# Detectors the web process may run: OpenCV only (MTCNN needs TensorFlow, which the web never imports).
WEB_DETECTORS = ("haar",)


def find_faces(data: bytes, detectors) -> dict:
    """Where each detector finds the face in a stored photo's bytes ({detector: [x, y, w, h] or
    []}), found exactly as a worker finds it: the same reduced decode, the same detector, the same
    box. The web calls this once per upload (settings.FIND_FACES_AT_UPLOAD), so neither worker
    searches: in a phone photo the search costs more than both MLPs and the decode together."""
    import io

    photo = load_face_photo(io.BytesIO(data))
    return {detector: photo.face(detector) for detector in detectors}


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
    crops = [photo.crop(spec.detector, spec.size) for photo in photos]  # the detector the model was trained with
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


def _shared_cache(operation: str, *args, failed, **kwargs):
    """One call to the shared cache that never fails a prediction: `failed` when the cache is unreachable."""
    from django.core.cache import cache

    try:
        return getattr(cache, operation)(*args, **kwargs)
    except Exception as exc:  # the cache backend's own connection errors (Redis restarting)
        log.warning("Face box not shared: the cache is unreachable (%s)", exc)
        return failed
