"""make bench-training: training times at the sizes the issues name (CPU).

- EthiTech's MLP pair on 20,000 images each at 48x48 grayscale (UTKFace's
  input size): balanced (4,000 per group) and 10x one group; generated
  synthetic faces stand in for UTKFace (no real data on these machines).
- A VGG-Face head on 86,000 cached 4096-d fc7 features (FairFace's training
  set size), read from a float16 memory-mapped cache like the real one.
Prints numbers; asserts nothing.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training import synthetic  # noqa: E402
from training.trainers.mlp import fit_mlp  # noqa: E402
from training.trainers.vgg_head import auto_epochs, fit_head  # noqa: E402

GROUPS = len(synthetic.GROUPS)


def mlp_inputs(counts: list[int], size: int = 48) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for g, n in enumerate(counts):
        for i in range(n):
            gray = cv2.cvtColor(synthetic.generate_image(g, i), cv2.COLOR_RGB2GRAY)
            xs.append(cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA).reshape(-1))
            ys.append(g)
    return (np.stack(xs).astype(np.float32) / 255.0), np.array(ys)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--features", type=int, default=86000)
    args = parser.parse_args()

    per = args.images // GROUPS
    minority = args.images // (10 + GROUPS - 1)
    mixes = {"balanced": [per] * GROUPS, "10x Group A": [minority * 10] + [minority] * (GROUPS - 1)}
    pool = [max(m[g] for m in mixes.values()) for g in range(GROUPS)]
    t0 = time.perf_counter()
    x_pool, y_pool = mlp_inputs(pool)
    print(f"Generated {len(y_pool):,} synthetic 48x48 inputs in {time.perf_counter() - t0:.0f} s (not timed below)")
    total = 0.0
    for name, counts in mixes.items():
        idx = np.concatenate([np.flatnonzero(y_pool == g)[:n] for g, n in enumerate(counts)])
        t0 = time.perf_counter()
        fit_mlp(x_pool[idx], y_pool[idx], seed=0)
        took = time.perf_counter() - t0
        total += took
        print(f"MLP {name}: {len(idx):,} images x {x_pool.shape[1]} inputs, fit in {took:.1f} s")
    print(f"Both MLPs: {total:.1f} s (target: within 120 s)")

    n, dim, classes = args.features, 4096, 6
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "features.npy"
        feats = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(n, dim))
        labels = rng.integers(0, classes, n)
        centres = rng.random((classes, dim), dtype=np.float32)
        for start in range(0, n, 8192):  # ReLU-like activations with class structure
            stop = min(start + 8192, n)
            block = centres[labels[start:stop]] + rng.random((stop - start, dim), dtype=np.float32) * 2
            feats[start:stop] = np.maximum(block - 1, 0)
        feats.flush()
        cached = np.load(path, mmap_mode="r")
        t0 = time.perf_counter()
        x = np.asarray(cached, dtype=np.float32)
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        epochs = auto_epochs(n)
        fit_head(x, labels, classes)
        took = time.perf_counter() - t0
    print(
        f"VGG-Face head on {n:,} cached {dim}-d features: read {load:.1f} s, {epochs} epochs in {took:.1f} s "
        f"(target: within 60 s)"
    )


if __name__ == "__main__":
    main()
