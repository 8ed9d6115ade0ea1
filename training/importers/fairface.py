"""FairFace: label CSVs with columns file,age,gender,race,service_test and 7
race groups; `merge_asian` folds East and Southeast Asian into Asian (6 groups,
as EmbRACE did). The train CSV gives the training split, the val CSV the
held-out split. Any broken row stops the import with its line number; nothing
is stored then."""

import csv
from pathlib import Path

from inference.label_sets import FAIRFACE_6 as SIX  # one catalogue of label sets (imported models too)
from inference.label_sets import FAIRFACE_7 as SEVEN
from inference.services import ensure_label_set

from ..models import Dataset
from .common import DatasetImportError, ImportReport, Row, readable_image, store

COLUMNS = ("file", "age", "gender", "race")
MAX_ERRORS = 10


def _read_csv(csv_path: Path, directory: Path, split: str, merge_asian: bool, check_images: bool, errors: list):
    rows = []
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                errors.append(
                    f"{csv_path.name} line 1: missing column(s) {', '.join(missing)} "
                    f"(expected file,age,gender,race,service_test)"
                )
                return rows
            for row in reader:
                line = reader.line_num
                race = (row.get("race") or "").strip()
                if race not in SEVEN:
                    errors.append(f"{csv_path.name} line {line}: unknown race {race!r} (expected one of {SEVEN})")
                elif not row["file"] or not (directory / row["file"]).is_file():
                    errors.append(f"{csv_path.name} line {line}: file {row['file']!r} not found under {directory}")
                elif check_images and not readable_image(directory / row["file"]):
                    errors.append(f"{csv_path.name} line {line}: {row['file']} is not a readable image")
                else:
                    label = "Asian" if merge_asian and race in ("East Asian", "Southeast Asian") else race
                    rows.append(
                        Row(
                            path=row["file"],
                            label=label,
                            split=split,
                            age_group=row["age"].strip(),
                            gender=row["gender"].strip().lower(),
                        )
                    )
                if len(errors) >= MAX_ERRORS:
                    break
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        errors.append(f"{csv_path.name}: cannot be read as CSV ({exc})")
    return rows


def import_fairface(
    directory: Path,
    *,
    train_labels: Path,
    val_labels: Path,
    merge_asian: bool = False,
    key: str = "",
    check_images: bool = True,
) -> ImportReport:
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetImportError(
            f"{directory} is not a folder. Point at the folder holding FairFace's train/ and val/."
        )
    errors: list[str] = []
    rows = _read_csv(Path(train_labels), directory, "train", merge_asian, check_images, errors)
    rows += _read_csv(Path(val_labels), directory, "test", merge_asian, check_images, errors)
    if errors:
        more = " (stopped after the first errors)" if len(errors) >= MAX_ERRORS else ""
        raise DatasetImportError(
            "Nothing was imported. Fix these rows and run again" + more + ":\n  " + "\n  ".join(errors)
        )
    labels = SIX if merge_asian else SEVEN
    label_set = ensure_label_set(
        key=f"fairface-{len(labels)}", name=f"FairFace groups ({len(labels)})", labels=labels, synthetic=False
    )
    report = ImportReport()
    store(
        key=key or f"fairface-{len(labels)}",
        name=f"FairFace ({len(labels)} groups)",
        kind=Dataset.Kind.FAIRFACE,
        label_set=label_set,
        root=directory.resolve(),
        rows=rows,
        report=report,
    )
    return report
