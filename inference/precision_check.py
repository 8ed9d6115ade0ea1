"""How far a reduced precision's answers are from float32's, measured on images.

The same model is loaded twice (float32 and the reduced precision, outside the worker cache),
both answer the same preprocessed images in batches, and the answers are compared: how often
the top guess is the same (overall and per group), and the largest difference in any
probability. For scale, float32 also answers each image with every pixel moved by up to one grey
level at random (far less than a JPEG re-encoding moves them): how often that alone changes the
top guess says how close to a tie the model's answers are on these images. Used by
`manage.py compare_precision` and the benchmark.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .precision import BFLOAT16, FLOAT32

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}


@dataclass
class Agreement:
    model: str
    reduced: str
    n: int = 0
    agree: int = 0
    max_diff: float = 0.0  # the largest |p_float32 - p_reduced| over every image and group
    sum_diff: float = 0.0
    sum_top: float = 0.0  # float32's top probability, summed: near 1/n_classes means a near-uniform model
    per_group: dict[str, list[int]] = field(default_factory=dict)  # group -> [images, agreeing]
    noise_agree: int = 0  # float32 against float32 on the image moved by up to one grey level
    grouped_by: str = "true group"
    seconds: dict[str, float] = field(default_factory=dict)  # precision -> forward seconds, all images
    looked_again: int | None = None  # int8: images whose near-tie answer was looked at again in float32

    @property
    def rate(self) -> float:
        return self.agree / self.n if self.n else float("nan")

    @property
    def noise_rate(self) -> float:
        return self.noise_agree / self.n if self.n else float("nan")

    @property
    def mean_diff(self) -> float:
        return self.sum_diff / self.n if self.n else float("nan")

    @property
    def mean_top(self) -> float:
        return self.sum_top / self.n if self.n else float("nan")

    def add(self, reference: np.ndarray, reduced: np.ndarray, groups: list[str]) -> None:
        """Count a batch of answers: (images, classes) probabilities from each precision."""
        same = reference.argmax(axis=1) == reduced.argmax(axis=1)
        diff = np.abs(reference - reduced)
        self.n += len(same)
        self.agree += int(same.sum())
        self.max_diff = max(self.max_diff, float(diff.max()))
        self.sum_diff += float(diff.max(axis=1).sum())
        self.sum_top += float(reference.max(axis=1).sum())
        for group, ok in zip(groups, same, strict=True):
            counts = self.per_group.setdefault(group, [0, 0])
            counts[0] += 1
            counts[1] += int(ok)


def compare_precisions(
    model_version,
    images: Iterable[tuple[np.ndarray, str | None]],
    *,
    reduced: str = BFLOAT16,
    batch: int = 8,
    progress: Callable[[int], None] | None = None,
) -> Agreement:
    """Run the model in float32 and in `reduced` on (RGB image, group or None) pairs. Images
    without a group are grouped by float32's guess."""
    from .preprocessing import InputSpec, prepare
    from .registry import load_uncached
    from .services import in_label_set_order

    if model_version.family != "vgg":
        raise ValueError(f"{model_version.key} is not a VGG-Face model: only VGG-Face has a choice of precision.")
    spec = InputSpec.from_dict(model_version.input_spec)
    predictors = {p: load_uncached(model_version, precision=p) for p in (FLOAT32, reduced)}
    labels = list(model_version.label_set.labels)
    result = Agreement(model=model_version.key, reduced=reduced, seconds=dict.fromkeys(predictors, 0.0))
    grouped, rng = set(), np.random.default_rng(0)

    def run(chunk):
        x = np.stack([prepare(rgb, spec)[0] for rgb, _ in chunk])
        nudged = np.clip(x + rng.integers(-1, 2, x.shape) / np.float32(255), 0, 1).astype(np.float32)
        answers = {}
        for precision, predictor in predictors.items():
            started = time.perf_counter()
            answers[precision] = in_label_set_order(predictor.predict_proba(x), model_version)
            result.seconds[precision] += time.perf_counter() - started
        reference = answers[FLOAT32]
        result.noise_agree += int(
            (predictors[FLOAT32].predict_proba(nudged).argmax(axis=1) == reference.argmax(axis=1)).sum()
        )
        guesses = [labels[i] for i in reference.argmax(axis=1)]
        groups = [group or guess for (_, group), guess in zip(chunk, guesses, strict=True)]
        grouped.update("true group" if group else "float32's guess" for _, group in chunk)
        result.add(reference, answers[reduced], groups)
        if progress:
            progress(result.n)

    chunk = []
    for item in images:
        chunk.append(item)
        if len(chunk) == batch:
            run(chunk)
            chunk = []
    if chunk:
        run(chunk)
    result.grouped_by = " or ".join(sorted(grouped, reverse=True)) or "true group"
    result.looked_again = getattr(predictors[reduced], "looked_again", None)
    return result


def folder_images(folder: Path) -> tuple[list[tuple[str, str | None]], int]:
    """The image files under `folder` as (path, group): a file in a subfolder belongs to the
    group named by its first subfolder, one directly in `folder` to none. Also returns how many
    other files were left out."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder.")
    found, other = [], 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            other += 1
            continue
        parts = path.relative_to(folder).parts
        found.append((str(path), parts[0] if len(parts) > 1 else None))
    return found, other
