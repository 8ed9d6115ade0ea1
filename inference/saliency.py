"""What a model looked at: saliency maps, one interface for every model family.

- Occlusion sensitivity (any model): slide a grey patch over the model's input and record how
  much the probability of the guessed group drops. All masked copies of one photo run as one
  batch. A positive cell: hiding it lowered the model's confidence in its guess.
- Grad-CAM (VGG-Face): the last convolution block's feature maps, weighted by the gradient of
  the guessed group's probability (through pool5, fc6, fc7 and the head), summed, kept positive.

- Feature occlusion (VGG-Face in int8, which ONNX Runtime cannot differentiate): each of pool5's
  7x7 cells (what the convolutions found in one 32x32 square of the face) set to zero in turn,
  the 49 copies through fc6, fc7 and the head in one batch; a cell's value is how much that
  lowered the guessed group's probability. About one batch of the fully connected layers.

A map is a small grid of floats (never an image), stored on the prediction with its method and
parameters. Predictors say which methods they support (`Predictor.saliency_methods`, preferred
first) and make their preferred one beside their answers (`Predictor.predict_and_explain`).
"""

from dataclasses import dataclass

import numpy as np

from .preprocessing import InputSpec

OCCLUSION = "occlusion"
GRADCAM = "gradcam"
FEATURE_OCCLUSION = "feature_occlusion"
GREY = 0.5  # inputs are scaled to 0..1: mid-grey hides a patch without adding an edge of its own


@dataclass(frozen=True)
class SaliencyMap:
    method: str
    grid: list[list[float]]  # rows top to bottom, as the model saw its input
    params: dict

    def as_dict(self) -> dict:
        return {"method": self.method, "grid": self.grid, "params": self.params}


def occlusion_params(spec: InputSpec, grid: int) -> tuple[int, int]:
    """(patch, stride) in input pixels: `grid` x `grid` cells tiling the input, each hidden in turn
    (one cell of the map is exactly the part of the input that was hidden)."""
    stride = max(1, spec.size // grid)
    return stride, stride


def occlusion(
    predict_proba, x: np.ndarray, spec: InputSpec, target: int, *, grid: int = 8, batch: int = 64, masked_proba=None
):
    """Occlusion map of one input `x` (as the model takes it) for class `target`.

    `masked_proba(x, cells, value)`: the model's probabilities for copies of a flat input `x`,
    copy k with the input positions `cells[k]` set to `value`, for a model that can compute
    them without running each whole copy (an MLP's first layer: inference.predictors)."""
    patch, stride = occlusion_params(spec, grid)
    channels = 3 if spec.mode == "rgb" else 1
    image = np.asarray(x, dtype=np.float32).reshape(spec.size, spec.size, channels)
    starts = list(range(0, spec.size - patch + 1, stride))
    base = float(predict_proba(np.expand_dims(np.asarray(x, dtype=np.float32), 0))[0, target])
    if masked_proba is not None and spec.layout == "flat":
        rows, cols, chans = np.meshgrid(np.arange(patch), np.arange(patch), np.arange(channels), indexing="ij")
        cells = np.stack(
            [
                np.ravel_multi_index((rows + top, cols + left, chans), image.shape).ravel()
                for top in starts
                for left in starts
            ]
        )
        probs = masked_proba(image.reshape(-1), cells, GREY)[:, target]
    else:
        masked = []
        for top in starts:
            for left in starts:
                copy = image.copy()
                copy[top : top + patch, left : left + patch, :] = GREY
                masked.append(copy)
        stack = np.stack(masked)
        if spec.layout == "flat":
            stack = stack.reshape(len(stack), -1)
        probs = np.concatenate([predict_proba(stack[i : i + batch])[:, target] for i in range(0, len(stack), batch)])
    drops = (base - probs).reshape(len(starts), len(starts))
    return SaliencyMap(
        OCCLUSION,
        _rounded(drops),
        {"patch": patch, "stride": stride, "input": spec.size, "grey": GREY, "baseline": round(base, 4)},
    )


def feature_occlusion(top, pooled: np.ndarray, side: int, probs: np.ndarray) -> SaliencyMap:
    """Feature-occlusion map of one image from its pool5 (flattened in HWC order, `side` x `side`
    cells): `top(batch)` gives probabilities from pool5, `probs` the image's own answer."""
    cells = np.asarray(pooled, dtype=np.float32).reshape(side * side, -1)
    copies = np.repeat(cells[None], side * side, axis=0)
    copies[np.arange(side * side), np.arange(side * side)] = 0  # copy k: cell k found nothing
    target = int(np.argmax(probs))
    drops = float(probs[target]) - np.asarray(top(copies.reshape(side * side, -1)))[:, target]
    return SaliencyMap(
        FEATURE_OCCLUSION,
        _rounded(drops.reshape(side, side)),
        {"layer": "pool5", "grid": side, "value": 0.0, "target": target, "baseline": round(float(probs[target]), 4)},
    )


def gradcam_grid(features: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """Grad-CAM from a convolution block's activations and the gradients of the class score
    with respect to them (both (h, w, c)): channel weights are the mean gradients."""
    weights = gradients.mean(axis=(0, 1))
    cam = np.maximum((features * weights).sum(axis=-1), 0)
    peak = cam.max()
    return cam / peak if peak > 0 else cam


def _rounded(grid: np.ndarray) -> list[list[float]]:
    return [[round(float(v), 4) for v in row] for row in grid]


def as_grid(cam: np.ndarray, params: dict) -> SaliencyMap:
    return SaliencyMap(GRADCAM, _rounded(cam), params)
