"""Images by position, as the trainers consume them: stable ids (for caches), labels, a loader."""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import synthetic


@dataclass
class ImageSet:
    """Images by position: ids (stable, for the feature cache), labels, a loader."""

    ids: list[str]
    labels: np.ndarray
    load: Callable[[int], np.ndarray]
    # Per image, where the dataset has them: {"gender": [...], "age_group": [...]} ("" = unknown).
    attributes: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self):
        return len(self.ids)

    def composition(self, groups: list[str]) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(groups))
        return {g: int(c) for g, c in zip(groups, counts, strict=True)}


def synthetic_image_set(counts: dict[str, int], *, split: str, seed: int = 0) -> ImageSet:
    keys = [(gi, i) for gi, g in enumerate(synthetic.GROUPS) for i in range(counts.get(g, 0))]
    extra = [synthetic.attributes(gi, i, split=split, seed=seed) for gi, i in keys]
    return ImageSet(
        ids=[f"synthetic:{seed}:{split}:{gi}:{i}" for gi, i in keys],
        labels=np.array([gi for gi, _ in keys], dtype=np.int64),
        load=lambda n: synthetic.generate_image(keys[n][0], keys[n][1], split=split, seed=seed),
        attributes={"gender": [e["style"] for e in extra], "age_group": [e["band"] for e in extra]},
    )
