"""Frozen VGG-Face features, extracted once into a resumable on-disk cache
(training/array_cache.py). The cache key covers the base weights, the cut,
the preprocessing and the image list, so a changed input never reuses stale
features.
"""

import json
from collections.abc import Callable, Sequence
from itertools import islice

import numpy as np

from inference.precision import FLOAT32, features_precision, file_dtypes
from inference.preprocessing import VGG_SPEC
from inference.registry import verified_path
from inference.vggface import FEATURE_LAYERS, build_model, channels, feature_model
from inference.vggface_weights import iter_layers

from .array_cache import cache_key, cached_rows
from .features import preprocess_many

# The weight layers a feature cut needs: 13 convolutions + fc6 (+ fc7).
LAYERS_FOR_CUT = {"fc6": 14, "fc7": 15}


def load_base_features_model(base, cut: str = "fc7", precision: str | None = None):
    """The base network up to `cut`, weights from the base file, in the serving precision
    (inference.precision) unless told: a head is trained on the features it will be served."""
    if cut not in FEATURE_LAYERS:
        raise ValueError(f"Feature cut must be one of {FEATURE_LAYERS}, not {cut!r}.")
    precision = precision or features_precision()
    path = verified_path(base.name, base.artifact_path, base.sha256)
    layers = islice(iter_layers(path, file_dtypes(precision)), LAYERS_FOR_CUT[cut])
    return feature_model(build_model(1, width=base.width, layer_source=layers, precision=precision), cut)


def extract_features(
    *,
    base,
    image_ids: Sequence[str],
    load_image: Callable[[int], np.ndarray],
    cut: str = "fc7",
    batch_size: int = 16,
    progress: Callable[[int, int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    spec=VGG_SPEC,
) -> tuple[np.ndarray, np.ndarray]:
    """Features for every image (resuming a partial cache), and face_found flags.

    `load_image(i)` returns image i as an RGB uint8 array. `progress(done,
    total, seconds_per_image)` is called after each batch. Stored as float16:
    half the disk and memory, plenty for a linear head.
    """
    model, precision = None, features_precision()

    def compute(idx: range):
        nonlocal model
        if model is None:  # built only if something is missing from the cache
            model = load_base_features_model(base, cut, precision)
        x, found = preprocess_many((load_image(i) for i in idx), spec)
        return model(x).astype(np.float16), list(found)

    return cached_rows(
        folder="features",
        # Features computed in another precision are other numbers (float32's keep their old key).
        key=cache_key(
            base.sha256, cut, json.dumps(spec.to_dict()), image_ids, *([precision] if precision != FLOAT32 else [])
        ),
        n=len(image_ids),
        dim=channels(base.width)[13 if cut == "fc6" else 14],
        dtype=np.float16,
        compute=compute,
        batch_size=batch_size,
        progress=progress,
        should_stop=should_stop,
    )
