"""Resumable on-disk caches of per-image rows (preprocessed inputs, frozen features).

A memory-mapped .npy array plus a small state file written after every
batch: an interrupted run continues where it stopped. The key must cover
everything the rows depend on (images, preprocessing, weights).
"""

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from django.conf import settings


def cache_key(*parts: str | Sequence[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        for item in [part] if isinstance(part, str) else part:
            digest.update(item.encode())
            digest.update(b"\n")
    return digest.hexdigest()[:20]


def cached_rows(
    *,
    folder: str,
    key: str,
    n: int,
    dim: int,
    dtype,
    compute: Callable[[range], tuple[np.ndarray, np.ndarray]],
    batch_size: int = 16,
    progress: Callable[[int, int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows 0..n-1 and a boolean flag per row (face found), computing only what is missing.

    `compute(range)` returns (rows, flags) for those indices. Returns the
    finished prefix: shorter than n only if `should_stop` interrupted it.
    """
    directory = Path(settings.MODEL_STORE) / folder
    directory.mkdir(parents=True, exist_ok=True)
    data_path, flags_path, state_path = (directory / f"{key}{ext}" for ext in (".npy", ".flags.npy", ".json"))
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    if state.get("n") == n and data_path.exists() and flags_path.exists():
        rows = np.lib.format.open_memmap(data_path, mode="r+")
        flags = np.lib.format.open_memmap(flags_path, mode="r+")
        done = int(state.get("done", 0))
    else:
        rows = np.lib.format.open_memmap(data_path, mode="w+", dtype=dtype, shape=(n, dim))
        flags = np.lib.format.open_memmap(flags_path, mode="w+", dtype=np.bool_, shape=(n,))
        done = 0
    started, first = time.perf_counter(), done
    for start in range(done, n, batch_size):
        if should_stop and should_stop():
            break
        idx = range(start, min(start + batch_size, n))
        out, found = compute(idx)
        rows[idx.start : idx.stop] = out
        flags[idx.start : idx.stop] = found
        rows.flush()
        flags.flush()
        done = idx.stop
        tmp = state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"n": n, "done": done}))
        os.replace(tmp, state_path)  # only after the rows are on disk
        if progress:
            progress(done, n, (time.perf_counter() - started) / (done - first))
    return rows[:done], flags[:done]
