"""UTKFace: files named age_gender_race_datetime.jpg (race 0 White, 1 Black,
2 Asian, 3 Indian, 4 Others). Malformed names and unreadable images are
skipped and counted, never fatal. UTKFace has no official split: 15% of files,
chosen by a hash of the name, are held out."""

import re
from pathlib import Path

from inference.services import ensure_label_set

from ..models import Dataset
from .common import IMAGE_SUFFIXES, DatasetImportError, ImportReport, Row, held_out, readable_image, store

LABELS = ["White", "Black", "Asian", "Indian", "Others"]
NAME_RE = re.compile(r"^(\d{1,3})_([01])_([0-4])_\d+")
GENDERS = {"0": "male", "1": "female"}


def import_utkface(directory: Path, *, key: str = "utkface", check_images: bool = True) -> ImportReport:
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetImportError(f"{directory} is not a folder. Point at the folder holding UTKFace's images.")
    report = ImportReport()
    rows = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = str(path.relative_to(directory))
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            report.skip("not an image file", rel)
            continue
        m = NAME_RE.match(path.name)
        if not m:
            report.skip("name is not age_gender_race_datetime", rel)
            continue
        if check_images and not readable_image(path):
            report.skip("unreadable image", rel)
            continue
        age, gender, race = m.groups()
        rows.append(
            Row(
                path=rel,
                label=LABELS[int(race)],
                split="test" if held_out(rel) else "train",
                age=int(age),
                gender=GENDERS[gender],
            )
        )
    if not rows:
        raise DatasetImportError(f"No usable UTKFace images in {directory} ({sum(report.skipped.values())} skipped).")
    label_set = ensure_label_set(key="utkface-5", name="UTKFace groups (5)", labels=LABELS, synthetic=False)
    store(
        key=key,
        name="UTKFace",
        kind=Dataset.Kind.UTKFACE,
        label_set=label_set,
        root=directory.resolve(),
        rows=rows,
        report=report,
    )
    return report
