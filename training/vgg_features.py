"""Frozen VGG-Face features, extracted once into a resumable on-disk cache.

The cache is a memory-mapped .npy array (float16: half the disk and RAM,
plenty for a linear head) plus a small progress file written after every
batch, so an interrupted extraction continues where it stopped. The cache key
covers the base weights, the cut and the image list, so a changed input never
reuses stale features.
"""

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from django.conf import settings

from inference.preprocessing import InputSpec, prepare
from inference.registry import verified_path
from inference.vggface import FEATURE_LAYERS, build_model, channels, feature_model
from inference.vggface_weights import iter_layers

VGG_SPEC = InputSpec(size=224, mode="rgb", scaling="unit", layout="hwc")
# The weight layers a feature cut needs: 13 convolutions + fc6 (+ fc7).
LAYERS_FOR_CUT = {"fc6": 14, "fc7": 15}


def cache_dir() -> Path:
    return Path(settings.MODEL_STORE) / "features"


def cache_key(base_sha: str, cut: str, image_ids: Sequence[str]) -> str:
    digest = hashlib.sha256("\n".join([base_sha, cut, json.dumps(VGG_SPEC.to_dict()), *image_ids]).encode())
    return digest.hexdigest()[:20]


def load_base_features_model(base, cut: str = "fc7"):
    """The base network up to `cut`, weights from the base file."""
    if cut not in FEATURE_LAYERS:
        raise ValueError(f"Feature cut must be one of {FEATURE_LAYERS}, not {cut!r}.")
    path = verified_path(base.name, base.artifact_path, base.sha256)
    model = build_model(1, width=base.width, layer_source=_take(iter_layers(path), LAYERS_FOR_CUT[cut]))
    return feature_model(model, cut)


def _take(iterator, n: int):
    for i, item in enumerate(iterator):
        if i >= n:
            return
        yield item


def extract_features(
    *,
    base,
    image_ids: Sequence[str],
    load_image: Callable[[int], np.ndarray],
    cut: str = "fc7",
    batch_size: int = 16,
    progress: Callable[[int, int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features for every image (resuming a partial cache), and face_found flags.

    `load_image(i)` returns image i as an RGB uint8 array. `progress(done,
    total, seconds_per_image)` is called after each batch.
    """
    n = len(image_ids)
    dim = channels(base.width)[13 if cut == "fc6" else 14]
    key = cache_key(base.sha256, cut, image_ids)
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    data_path, flags_path, state_path = (folder / f"{key}{ext}" for ext in (".npy", ".faces.npy", ".json"))

    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    if state.get("n") == n and data_path.exists() and flags_path.exists():
        feats = np.lib.format.open_memmap(data_path, mode="r+")
        faces = np.lib.format.open_memmap(flags_path, mode="r+")
        done = int(state.get("done", 0))
    else:
        feats = np.lib.format.open_memmap(data_path, mode="w+", dtype=np.float16, shape=(n, dim))
        faces = np.lib.format.open_memmap(flags_path, mode="w+", dtype=np.bool_, shape=(n,))
        done = 0
    if done < n:
        model = load_base_features_model(base, cut)
        started, first = time.perf_counter(), done
        for start in range(done, n, batch_size):
            if should_stop and should_stop():
                break
            idx = range(start, min(start + batch_size, n))
            prepared = [prepare(load_image(i), VGG_SPEC) for i in idx]
            out = model(np.stack([x for x, _ in prepared]))
            feats[idx.start : idx.stop] = out.astype(np.float16)
            faces[idx.start : idx.stop] = [f for _, f in prepared]
            feats.flush()
            faces.flush()
            done = idx.stop
            _write_state(state_path, {"n": n, "done": done, "cut": cut, "base": base.sha256})
            if progress:
                progress(done, n, (time.perf_counter() - started) / (done - first))
    return feats[:done], faces[:done]


def _write_state(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)
