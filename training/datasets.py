"""Imported datasets as image sets for the trainers, and their preprocessed inputs."""

from pathlib import Path

import numpy as np

from inference.preprocessing import InputSpec, load_rgb

from .array_cache import cache_key, cached_rows
from .composition import available, sample
from .features import preprocess_many
from .image_sets import ImageSet
from .models import Dataset, DatasetImage


def image_set(dataset: Dataset, ids: list[int]) -> ImageSet:
    """The given DatasetImage ids, in that order."""
    rows = DatasetImage.objects.in_bulk(ids)
    paths = [rows[i].path for i in ids]
    labels = dataset.label_set.labels
    root = Path(dataset.root)
    attributes = {name: [getattr(rows[i], name) for i in ids] for name in ("gender", "age_group")}
    return ImageSet(
        ids=[f"{dataset.key}:{p}" for p in paths],
        labels=np.array([labels.index(rows[i].label) for i in ids], dtype=np.int64),
        load=lambda n: load_rgb(root / paths[n]),
        attributes={name: values for name, values in attributes.items() if any(values)},
    )


def training_set(dataset: Dataset, mix: dict, *, seed: int = 0) -> tuple[ImageSet, dict[str, int]]:
    ids, counts = sample(dataset, mix, split="train", seed=seed)
    return image_set(dataset, ids), counts


def held_out_set(dataset: Dataset, *, per_group: int | None = None, seed: int = 0) -> ImageSet:
    """The held-out split: all of it, or at most `per_group` of each group."""
    avail = available(dataset, split="test")
    counts = {g: n if per_group is None else min(n, per_group) for g, n in avail.items()}
    ids, _ = sample(dataset, {"kind": "counts", "counts": counts}, split="test", seed=seed)
    return image_set(dataset, ids)


def preprocessed(images: ImageSet, spec: InputSpec, *, progress=None, should_stop=None) -> np.ndarray:
    """Model inputs for every image through the shared preprocessing, cached on disk."""
    return preprocessed_with_faces(images, spec, progress=progress, should_stop=should_stop)[0]


def preprocessed_with_faces(images: ImageSet, spec: InputSpec, *, progress=None, should_stop=None):
    """(model inputs, whether the spec's detector found a face) for every image, cached on disk."""

    def compute(idx: range):
        x, found = preprocess_many((images.load(i) for i in idx), spec)
        return x, list(found)

    return cached_rows(
        folder="inputs",
        key=cache_key(str(sorted(spec.to_dict().items())), images.ids),
        n=len(images),
        dim=spec.flat_length,
        dtype=np.float32,
        compute=compute,
        batch_size=64,
        progress=progress,
        should_stop=should_stop,
    )
