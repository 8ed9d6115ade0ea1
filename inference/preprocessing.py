"""The one preprocessing path shared by training and serving.

Photo -> face detection -> square crop with a margin (centre crop when no face is
found) -> resize -> model input array. The detector is part of a model's input
spec: OpenCV's bundled Haar cascade ("haar"), or MTCNN ("mtcnn", the `mtcnn`
wheel's own weights; it needs TensorFlow, so only workers and training run it).
Haar missed a tightly cropped face and a darker-skinned face on 71 real test
photos where MTCNN found all 71: a detector has a bias of its own.
Training calls `prepare` on dataset images exactly as workers do on uploads,
so a model always sees the transform it was trained on.
"""

import logging
import math
import threading
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

DETECTORS = ("haar", "mtcnn")
MTCNN_MIN_CONFIDENCE = 0.9
DETECT_MAX_SIDE = 640  # detection runs on a downscaled copy: 15-100 ms instead of seconds
FACE_MARGIN = 0.25  # extra context around the detected box, as a fraction of its size


@dataclass(frozen=True)
class InputSpec:
    size: int = 32
    mode: str = "rgb"  # "rgb" or "gray"
    scaling: str = "unit"  # "unit": 0..1 floats, as the VGG-Face race weights expect
    layout: str = "flat"  # "flat" vector (MLP) or "hwc" image tensor (VGG-Face)
    detector: str = "haar"  # which face detector finds the face (DETECTORS)

    def __post_init__(self):
        if self.detector not in DETECTORS:
            raise ValueError(f"Unknown face detector {self.detector!r}; choose one of {DETECTORS}.")

    @classmethod
    def from_dict(cls, d: dict) -> "InputSpec":
        return cls(**{k: d[k] for k in ("size", "mode", "scaling", "layout", "detector") if k in d})

    def to_dict(self) -> dict:
        d = {"size": self.size, "mode": self.mode, "scaling": self.scaling, "layout": self.layout}
        if self.detector != "haar":  # specs stored before detectors were named are Haar's
            d["detector"] = self.detector
        return d

    @property
    def flat_length(self) -> int:
        return self.size * self.size * (3 if self.mode == "rgb" else 1)


# VGG-Face's input: 224 x 224 RGB in 0..1, as an image tensor (weights import, training and serving).
VGG_SPEC = InputSpec(size=224, mode="rgb", scaling="unit", layout="hwc")


def load_rgb(source) -> np.ndarray:
    """Open a path or file object as an RGB uint8 array, orientation applied."""
    return load_rgb_reduced(source, None)[0]


def load_rgb_reduced(source, least_side: int | None = DETECT_MAX_SIDE) -> tuple[np.ndarray, float]:
    """(RGB uint8 array, its scale against the stored image): a JPEG decoded at 1/2, 1/4 or 1/8
    of its size where its longer side stays at least `least_side` (libjpeg scales while it
    decodes: a 1600x1200 photo took 2.3-2.5 ms of CPU at half size instead of 4.7-5.2 whole);
    anything else, or `least_side` None, at full size. Orientation applied."""
    with Image.open(source) as img:
        width, height = img.size
        if least_side and img.format == "JPEG" and max(width, height) >= 2 * least_side:
            ratio = least_side / max(width, height)
            img.draft("RGB", (math.ceil(width * ratio), math.ceil(height * ratio)))
        scale = img.size[0] / width
        img = ImageOps.exif_transpose(img)
        return np.asarray(img.convert("RGB"), dtype=np.uint8), scale


@lru_cache(maxsize=1)
def _cascade() -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"OpenCV's Haar cascade could not be loaded from {path}")
    return cascade


def detect_face(rgb: np.ndarray, detector: str = "haar") -> tuple[int, int, int, int] | None:
    """Return the largest face box (x, y, w, h) in original coordinates, or None."""
    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = rgb if scale == 1.0 else cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    faces = _mtcnn_faces(small) if detector == "mtcnn" else _haar_faces(small)
    if len(faces) == 0:
        return None
    x, y, fw, fh = max(faces, key=lambda f: f[2] * f[3])
    return (int(x / scale), int(y / scale), int(fw / scale), int(fh / scale))


# One cascade must not search two images at once (it keeps per-call state): the web server's
# warm-up thread, or a threaded server, may search beside a request.
_CASCADE_LOCK = threading.Lock()


# The cascade spends most of its time on its smallest windows: in a 640 px copy, 55 CPU-ms from
# 15% of the short side, 25 from 20%, 13 from 25%. A student's photo mostly holds a larger face, so
# the search looks at the largest windows first and stops once no smaller window could change the
# largest face (`_largest_is_settled`); otherwise it adds the next smaller ones and groups all the
# windows so far, as one search groups them. The cascade's windows at one size do not depend on the
# sizes searched beside them, so the largest face is exactly the one one whole search finds.
HAAR_LOOKS = (0.25, 0.20, 0.15)  # of the short side: each look's smallest window; the last, the smallest face
HAAR_NEIGHBOURS = 5
HAAR_GROUP_EPS = 0.2  # OpenCV's own, in detectMultiScale
# A window this much larger than another can never be grouped with it: OpenCV's similarity allows
# each edge to move by eps times the smaller side, so the sides differ by at most 2 * eps of it.
HAAR_REACH = 1 + 2 * HAAR_GROUP_EPS


def _haar_faces(small: np.ndarray):
    """The faces the cascade finds. The largest is always the one one whole search finds (it is
    all `detect_face` uses); smaller ones are missing when the search stopped before their size."""
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    floors = sorted({max(24, int(min(gray.shape) * share)) for share in HAAR_LOOKS}, reverse=True)
    windows, above = [], 0
    with _CASCADE_LOCK:
        for floor in floors:
            windows += _haar_windows(gray, floor, above - 1 if above else 0)
            faces = _grouped(windows)
            if floor == floors[-1] or _largest_is_settled(windows, faces, floor):
                return faces
            above = floor


def _haar_windows(gray: np.ndarray, least: int, most: int = 0) -> list:
    """Every window the cascade accepts with sides from `least` to `most` (0: any), ungrouped."""
    found = _cascade().detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=0, minSize=(least, least), maxSize=(most, most)
    )
    return [list(map(int, r)) for r in found]


def _grouped(windows: list):
    """Faces from windows, grouped as detectMultiScale groups them (minNeighbors=5)."""
    if not windows:
        return ()
    faces, _ = cv2.groupRectangles(windows, HAAR_NEIGHBOURS, HAAR_GROUP_EPS)
    return faces


def _largest_is_settled(windows: list, faces, floor: int) -> bool:
    """Whether windows smaller than `floor` could not change the largest of `faces` (grouped from
    `windows`, all at least `floor`). OpenCV groups windows that are similar, in chains, and
    averages each group. A smaller window can only join a group holding a window at most
    HAAR_REACH times its side ("reachable"). So the largest face stays as it is when its own group
    holds no reachable window, and every group that does (and may grow, or pass the neighbour
    count once grown) stays too small to become larger than it or to swallow it (OpenCV drops a
    face lying inside a larger one's box widened by eps)."""
    if not len(faces):
        return False
    areas = [int(f[2]) * int(f[3]) for f in faces]
    if areas.count(max(areas)) > 1:
        return False  # a tie: which one comes first could change
    largest = np.asarray(faces[areas.index(max(areas))], dtype=np.float64)
    boxes = np.asarray(windows, dtype=np.float64)
    groups = _window_groups(boxes)
    reachable = boxes[:, 2:].min(axis=1) <= HAAR_REACH * (floor - 1)
    # Its group: the one whose average it is (OpenCV rounds the average to whole pixels).
    own = [
        g
        for g in np.unique(groups)
        if (groups == g).sum() > HAAR_NEIGHBOURS and np.all(np.abs(boxes[groups == g].mean(axis=0) - largest) <= 1)
    ]
    if len(own) != 1 or reachable[groups == own[0]].any():
        return False
    grown = {int(g) for g in groups[reachable]}
    widest = max((boxes[groups == g, 2:].max() for g in grown), default=0.0)
    return widest * HAAR_REACH < min(largest[2], largest[3])


def _window_groups(boxes: np.ndarray) -> np.ndarray:
    """Group labels of the windows, as OpenCV's partition() with its SimilarRects(eps) makes them:
    windows are joined when every edge is within eps * (the smaller width + the smaller height) / 2."""
    x, y, w, h = (boxes[:, i] for i in range(4))
    delta = HAAR_GROUP_EPS * (np.minimum.outer(w, w) + np.minimum.outer(h, h)) * 0.5
    near = (
        (np.abs(np.subtract.outer(x, x)) <= delta)
        & (np.abs(np.subtract.outer(y, y)) <= delta)
        & (np.abs(np.subtract.outer(x + w, x + w)) <= delta)
        & (np.abs(np.subtract.outer(y + h, y + h)) <= delta)
    )
    labels = np.arange(len(boxes))
    while True:  # each window takes its neighbours' lowest label until none changes: the chains' groups
        spread = np.where(near, labels[None, :], len(boxes)).min(axis=1)
        if np.array_equal(spread, labels):
            return labels
        labels = spread


@lru_cache(maxsize=1)
def _mtcnn():
    from mtcnn import MTCNN  # TensorFlow: workers and training only

    return MTCNN(device="CPU:0")


def _mtcnn_faces(small: np.ndarray) -> list[tuple[int, int, int, int]]:
    try:
        found = _mtcnn().detect_faces(np.ascontiguousarray(small))
    except Exception:  # MTCNN raises on some inputs with no candidate at all: no face, then
        log.debug("MTCNN found nothing it could refine", exc_info=True)
        return []
    return [
        tuple(int(v) for v in f["box"])
        for f in found
        if f["confidence"] >= MTCNN_MIN_CONFIDENCE and f["box"][2] > 0 and f["box"][3] > 0
    ]


def warm_up(detectors=("haar",)) -> None:
    """Load the face detectors (OpenCV's kernels; MTCNN's networks, about 3 s) once, before the
    first photo."""
    for detector in set(detectors) | {"haar"}:
        detect_face(np.zeros((64, 64, 3), dtype=np.uint8), detector)


def _square_crop(rgb: np.ndarray, cx: float, cy: float, side: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    side = int(min(side, h, w))
    x0 = int(round(min(max(cx - side / 2, 0), w - side)))
    y0 = int(round(min(max(cy - side / 2, 0), h - side)))
    return rgb[y0 : y0 + side, x0 : x0 + side]


def crop_face(rgb: np.ndarray, detector: str = "haar") -> tuple[np.ndarray, bool]:
    """Square crop around the face with a margin; centre crop if none is found."""
    return crop_at(rgb, detect_face(rgb, detector))


def crop_at(rgb: np.ndarray, box: tuple[int, int, int, int] | None) -> tuple[np.ndarray, bool]:
    """The crop `crop_face` makes for a face found at `box` (None: no face found), for a
    photo whose face another worker has already found."""
    h, w = rgb.shape[:2]
    if box is None:
        return _square_crop(rgb, w / 2, h / 2, min(h, w)), False
    x, y, fw, fh = box
    side = max(fw, fh) * (1 + 2 * FACE_MARGIN)
    return _square_crop(rgb, x + fw / 2, y + fh / 2, side), True


def to_model_input(crop: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Resize a square crop and scale it into the model's float input."""
    resized = cv2.resize(crop, (spec.size, spec.size), interpolation=cv2.INTER_AREA)
    if spec.mode == "gray":
        resized = cv2.cvtColor(resized, cv2.COLOR_RGB2GRAY)
    if spec.scaling != "unit":
        raise ValueError(f"Unknown input scaling {spec.scaling!r}")
    scaled = resized.astype(np.float32) / np.float32(255.0)
    if spec.layout == "hwc":
        return scaled if scaled.ndim == 3 else scaled[:, :, None]
    return scaled.reshape(-1)


def prepare(rgb: np.ndarray, spec: InputSpec) -> tuple[np.ndarray, bool]:
    """Full transform for one image: returns (model input, face_found)."""
    crop, face_found = crop_face(rgb, spec.detector)
    return to_model_input(crop, spec), face_found
