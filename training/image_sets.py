"""Images by position, as the trainers consume them: stable ids (for caches), labels, a loader."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import synthetic


@dataclass
class ImageSet:
    """Images by position: ids (stable, for the feature cache), labels, a loader."""

    ids: list[str]
    labels: np.ndarray
    load: Callable[[int], np.ndarray]

    def __len__(self):
        return len(self.ids)

    def composition(self, groups: list[str]) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(groups))
        return {g: int(c) for g, c in zip(groups, counts, strict=True)}


def synthetic_image_set(counts: dict[str, int], *, split: str, seed: int = 0) -> ImageSet:
    keys = [(gi, i) for gi, g in enumerate(synthetic.GROUPS) for i in range(counts.get(g, 0))]
    return ImageSet(
        ids=[f"synthetic:{seed}:{split}:{gi}:{i}" for gi, i in keys],
        labels=np.array([gi for gi, _ in keys], dtype=np.int64),
        load=lambda n: synthetic.generate_image(keys[n][0], keys[n][1], split=split, seed=seed),
    )
