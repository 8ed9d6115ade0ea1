"""int8 convolution kernels rounded for their outputs, not weight by weight (GPTQ).

Rounding each weight to the nearest of its channel's 255 levels moved pool5 by 2.2% at a
sixteenth of the width (float32 activations: the weights' share alone), more than the 8-bit
activations did. Here each kernel is rounded one input row at a time, and each row's rounding
error is made up for by the rows not yet rounded, weighted by how the calibration images'
patches correlate (Frantar et al., GPTQ, 2022): the same int8 grid ONNX Runtime uses (symmetric,
one scale per output channel, max |w| / 127), so quantize_static keeps these values as they are.
Measured, weights only: pool5 moved 0.46% instead of 2.15% (1/16 width).

Only NumPy and ONNX Runtime: it runs in the quantising child process.
"""

import numpy as np

from .vggface_onnx import conv_graph

ROWS_PER_INPUT = 8  # patches sampled per kernel row (input value): enough for a well-conditioned H
DAMPING = 0.01  # of H's mean diagonal, as GPTQ: rows the images never vary stay near their float value
BLOCK = 128  # rows rounded together before the rest are corrected (the same result, faster)
FIRST_BLOCK_CONVS = (0, 2, 4, 7, 10)  # convolutions that read a max-pooled input


def rounded(layers, images: np.ndarray, providers) -> list:
    """The layers with every kernel but conv1_1's (kept float32) rounded onto its int8 grid."""
    correlations = _input_correlations(layers, images, providers)
    out = [layers[0]]
    for (name, (kernel, bias)), h in zip(layers[1:], correlations, strict=True):
        q = _gptq(kernel.reshape(-1, kernel.shape[-1]), h.astype(np.float64))
        out.append((name, [q.reshape(kernel.shape), bias]))
    return out


def _input_correlations(layers, images: np.ndarray, providers) -> list[np.ndarray]:
    """H = X'X for every convolution but the first, X its 3x3 input patches (rows: positions,
    columns in the kernel's HWI order) sampled from the float32 network on the images. Summed
    image by image: the patches themselves would take 3.4 GB at full width, the sums 0.5 GB."""
    import onnxruntime as ort

    session = ort.InferenceSession(conv_graph(layers, every_relu=True).SerializeToString(), providers=providers)
    rng = np.random.default_rng(0)
    sums = [None] * (len(layers) - 1)
    for i in range(len(images)):
        relus = session.run(None, {"image": images[i : i + 1]})[1:-1]  # the inputs of conv1_2..conv5_3
        for j, x in enumerate(relus):
            if j + 1 in FIRST_BLOCK_CONVS:
                n, c, hi, wi = x.shape
                x = x.reshape(n, c, hi // 2, 2, wi // 2, 2).max(axis=(3, 5))
            patches = _sampled_patches(x[0], ROWS_PER_INPUT * 9 * x.shape[1] // len(images) + 1, rng)
            product = patches.T @ patches
            sums[j] = product if sums[j] is None else sums[j] + product
    return sums


def _sampled_patches(x: np.ndarray, count: int, rng) -> np.ndarray:
    """`count` random 3x3 patches (zero-padded, as the convolution) of a CHW tensor."""
    c, hi, wi = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    at = rng.choice(hi * wi, min(count, hi * wi), replace=False)
    ys, xs = at // wi, at % wi
    return np.stack([padded[:, ys + dy, xs + dx].T for dy in range(3) for dx in range(3)], axis=1).reshape(len(at), -1)


def _gptq(w: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Rows (inputs) x columns (output channels) rounded in order; each row's error is spread over
    the later rows through the inverse of H (the inputs' correlations). Each channel's largest
    weight is put on the grid's end, so its scale (max |w| / 127) is unchanged."""
    w = w.astype(np.float64)  # a copy: corrected as rows are rounded
    rows, cols = w.shape
    scale = (np.abs(w).max(axis=0) / 127).astype(np.float32).astype(np.float64)
    scale[scale == 0] = 1
    top = np.abs(w).argmax(axis=0)
    end = np.sign(w[top, np.arange(cols)]) * 127 * scale
    dead = np.diag(h) == 0
    h[dead, dead] = 1
    h += DAMPING * np.mean(np.diag(h)) * np.eye(rows)
    u = np.linalg.cholesky(np.linalg.inv(h)).T  # upper: row i's share of the later rows' correction
    q = np.zeros_like(w)
    for start in range(0, rows, BLOCK):
        stop = min(start + BLOCK, rows)
        block, errors = w[start:stop].copy(), np.zeros((stop - start, cols))
        for i in range(stop - start):
            row = np.clip(np.round(block[i] / scale), -127, 127) * scale
            at_end = top == start + i
            row[at_end] = end[at_end]
            q[start + i] = row
            errors[i] = (block[i] - row) / u[start + i, start + i]
            block[i:] -= np.outer(u[start + i, start + i : stop], errors[i])
        w[stop:] -= u[start:stop, stop:].T @ errors
    return q.astype(np.float32)
