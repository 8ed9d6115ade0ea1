"""What every importer shares: checking images, storing rows idempotently, reporting."""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from PIL import Image, UnidentifiedImageError

from inference.models import LabelSet

from ..models import Dataset, DatasetImage

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


class DatasetImportError(ValueError):
    """The import cannot go ahead; the message names the file and line."""


@dataclass
class Row:
    path: str
    label: str
    split: str
    age: int | None = None
    age_group: str = ""
    gender: str = ""


@dataclass
class ImportReport:
    dataset: Dataset | None = None
    counts: Counter = field(default_factory=Counter)  # (split, label) -> n
    skipped: Counter = field(default_factory=Counter)  # reason -> n
    examples: dict = field(default_factory=dict)  # reason -> first file
    created: int = 0
    removed: int = 0

    def skip(self, reason: str, name: str) -> None:
        self.skipped[reason] += 1
        self.examples.setdefault(reason, name)

    def as_dict(self) -> dict:
        return {
            "counts": {f"{s}/{label}": n for (s, label), n in sorted(self.counts.items())},
            "skipped": dict(self.skipped),
            "examples": self.examples,
        }

    def lines(self, labels: list[str]) -> list[str]:
        splits = sorted({s for s, _ in self.counts})
        out = [f"{'group':<20}" + "".join(f"{s:>10}" for s in splits)]
        for label in labels:
            out.append(f"{label:<20}" + "".join(f"{self.counts[(s, label)]:>10}" for s in splits))
        out.append(
            f"{'total':<20}" + "".join(f"{sum(n for (sp, _), n in self.counts.items() if sp == s):>10}" for s in splits)
        )
        for reason, n in self.skipped.items():
            out.append(f"skipped {n} ({reason}), e.g. {self.examples[reason]}")
        return out


def readable_image(path: Path) -> bool:
    """Decode the image (at reduced scale for JPEG: fast) to catch truncated or bogus files."""
    try:
        with Image.open(path) as img:
            if img.format not in ("JPEG", "PNG", "WEBP"):
                return False
            img.draft("RGB", (80, 80))
            img.load()
        return True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


@transaction.atomic
def store(
    *,
    key: str,
    name: str,
    kind: str,
    label_set: LabelSet,
    root: Path,
    rows: list[Row],
    report: ImportReport,
    synthetic: bool = False,
) -> Dataset:
    """Create or update the dataset and its rows; re-running with the same files changes nothing."""
    dataset, _ = Dataset.objects.update_or_create(
        key=key,
        defaults={"name": name, "kind": kind, "label_set": label_set, "root": str(root), "synthetic": synthetic},
    )
    existing = set(dataset.images.values_list("path", flat=True))
    paths = {r.path for r in rows}
    report.removed, _ = dataset.images.exclude(path__in=paths).delete() if existing - paths else (0, None)
    DatasetImage.objects.bulk_create(
        [
            DatasetImage(
                dataset=dataset,
                path=r.path,
                label=r.label,
                split=r.split,
                age=r.age,
                age_group=r.age_group,
                gender=r.gender,
            )
            for r in rows
        ],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["dataset", "path"],
        update_fields=["label", "split", "age", "age_group", "gender"],
    )
    report.created = len(paths - existing)
    for r in rows:
        report.counts[(r.split, r.label)] += 1
    report.dataset = dataset
    dataset.report = report.as_dict()
    dataset.save(update_fields=["report"])
    return dataset


def held_out(name: str, percent: int = 15) -> bool:
    """A stable, name-based split: the same file is always on the same side."""
    import hashlib

    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 100 < percent
