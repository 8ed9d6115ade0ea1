"""The operator's import folder (ETHITECH_IMPORT_DIR): what is in it, recognised by kind, and the
import a job runs. Each import calls the same code as the command-line importers, whose checks
come first; nothing is downloaded.

Recognised: a UTKFace folder (files named age_gender_race_datetime.jpg) or a .tar.gz/.tgz/.zip
of one; a FairFace folder (fairface_label_train.csv and fairface_label_val.csv beside train/ and
val/); a VGG-Face weights file (Keras-2 HDF5, 2622 outputs: a base for training heads); a
complete race model weights file (HDF5 with a handful of outputs: deepface's is 6 classes).
"""

import tarfile
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from .importers.utkface import NAME_RE

UTK_ARCHIVES = (".tar.gz", ".tgz", ".zip")
DEEPFACE_RACE_LABELS = "asian,indian,black,white,middle eastern,latino hispanic"
IDENTITIES = 2622  # VGG-Face's published output: the base for training heads


class ImportDirError(ValueError):
    """The import folder or an item in it cannot be used; the message says why."""


@dataclass
class Item:
    path: str  # relative to the import folder
    kind: str  # utkface, utkface_archive, fairface, vggface_base, race_model
    what: str  # in words, for the page
    options: dict = field(default_factory=dict)
    problem: str = ""

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, "")

    @property
    def importable(self) -> bool:
        # A readable race model of another class count can be imported once its class names are given.
        return bool(self.kind) and (not self.problem or self.options.get("needs_labels", False))


KIND_NAMES = {
    "utkface": gettext_lazy("UTKFace images"),
    "utkface_archive": gettext_lazy("UTKFace archive"),
    "fairface": gettext_lazy("FairFace images and labels"),
    "vggface_base": gettext_lazy("VGG-Face weights (base for training)"),
    "race_model": gettext_lazy("Race model weights (complete model)"),
}


def root() -> Path | None:
    folder = settings.IMPORT_DIR
    return Path(folder).resolve() if folder else None


def resolve(relative: str) -> Path:
    """An item's path, which must lie inside the import folder (no `..`, no link out of it)."""
    base = root()
    if base is None:
        raise ImportDirError(gettext("No import folder is set (ETHITECH_IMPORT_DIR)."))
    path = (base / relative).resolve()
    if base != path and base not in path.parents:
        raise ImportDirError(gettext("%(item)s is outside the import folder.") % {"item": relative})
    if not path.exists():
        raise ImportDirError(gettext("%(item)s is no longer in the import folder.") % {"item": relative})
    return path


def _utk_count(folder: Path, limit: int = 200) -> tuple[int, int]:
    """(files named like UTKFace's among the first `limit` files, files looked at)."""
    named = seen = 0
    for path in folder.rglob("*"):
        if path.is_file():
            seen += 1
            named += bool(NAME_RE.match(path.name))
            if seen >= limit:
                break
    return named, seen


def _weights(path: Path) -> Item:
    from inference.vggface_weights import WeightsFileError, layer_shapes

    try:
        shapes = layer_shapes(path)
    except WeightsFileError as exc:
        return Item(path.name, "race_model", gettext("HDF5 file"), problem=str(exc))
    outputs = shapes[-1][1][-1][-1] if shapes and shapes[-1][1] else 0
    size = _megabytes(path)
    if outputs == IDENTITIES:
        return Item(path.name, "vggface_base", gettext("%(size)s, %(n)s identities") % {"size": size, "n": outputs})
    labels = DEEPFACE_RACE_LABELS if outputs == 6 else ""
    problem = "" if labels else gettext("It has %(n)s classes: give their names in the file's order.") % {"n": outputs}
    options = {"labels": labels, "needs_labels": not labels}
    what = gettext("%(size)s, %(n)s classes") % {"size": size, "n": outputs}
    return Item(path.name, "race_model", what, options, problem)


def _megabytes(path: Path) -> str:
    size = Decimal(f"{path.stat().st_size / 1e6:.0f}")  # rounded as before; number_format alone truncates
    return gettext("%(size)s MB") % {"size": formats.number_format(size, 0, force_grouping=True)}


def scan() -> list[Item]:
    """Everything at the top of the import folder, recognised or said not to be."""
    base = root()
    if base is None or not base.is_dir():
        return []
    items = []
    for path in sorted(base.iterdir(), key=lambda p: p.name.lower()):
        name = path.name
        if name.startswith("."):
            continue
        if path.is_dir():
            if (path / "fairface_label_train.csv").is_file() and (path / "fairface_label_val.csv").is_file():
                items.append(Item(name, "fairface", gettext("label CSVs for train and val"), {"merge_asian": True}))
                continue
            named, seen = _utk_count(path)
            if named:
                what = gettext("%(named)s of the first %(seen)s files are named like UTKFace's") % {
                    "named": named,
                    "seen": seen,
                }
                items.append(Item(name, "utkface", what))
            else:
                items.append(
                    Item(
                        name,
                        "",
                        gettext("folder"),
                        problem=gettext(
                            "Neither UTKFace (age_gender_race_datetime.jpg names) nor FairFace "
                            "(fairface_label_train.csv and fairface_label_val.csv)."
                        ),
                    )
                )
        elif name.lower().endswith(UTK_ARCHIVES):
            items.append(Item(name, "utkface_archive", gettext("%(size)s archive") % {"size": _megabytes(path)}))
        elif name.lower().endswith((".h5", ".hdf5")):
            items.append(_weights(path))
        else:
            items.append(Item(name, "", gettext("file"), problem=gettext("Not a kind this page imports.")))
    return items


def _unpack(archive: Path, progress) -> Path:
    """Unpack a UTKFace archive into the data folder (never beside it: the import folder may be
    read-only), refusing members that point outside; an earlier unpack is reused."""
    target = Path(settings.DATA_DIR) / "imports" / archive.name.split(".")[0]
    done = target / ".unpacked"
    if done.exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    progress(gettext_noop("Unpacking the archive"), 0.05, None)
    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                for member in z.namelist():
                    dest = (target / member).resolve()
                    if target.resolve() not in dest.parents and dest != target.resolve():
                        raise ImportDirError(f"{archive.name}: its entry {member} points outside the archive.")
                z.extractall(target)
        else:
            with tarfile.open(archive) as t:
                t.extractall(target, filter="data")  # refuses absolute paths, `..` and links out of it
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
        raise ImportDirError(f"{archive.name} could not be unpacked: {exc}")
    done.touch()
    return target


def run_import(params: dict, progress) -> tuple[object, str]:
    """Import one item (a job's params: {"item", "kind", options}); (model or None, report text)."""
    from inference.weights_import import import_race_model, import_vggface_weights

    from .importers.fairface import import_fairface
    from .importers.utkface import import_utkface

    path, kind = resolve(params["item"]), params["kind"]
    progress(gettext_noop("Checking the files"), 0.1, None)
    if kind in ("utkface", "utkface_archive"):
        folder = _unpack(path, progress) if kind == "utkface_archive" else path
        progress(gettext_noop("Checking every image"), 0.3, None)
        report = import_utkface(folder)
        return None, report_text(report)
    if kind == "fairface":
        progress(gettext_noop("Checking every image and label"), 0.3, None)
        report = import_fairface(
            path,
            train_labels=path / "fairface_label_train.csv",
            val_labels=path / "fairface_label_val.csv",
            merge_asian=bool(params.get("merge_asian")),
        )
        return None, report_text(report)
    if kind == "vggface_base":
        progress(gettext_noop("Checking and copying the weights"), 0.3, None)
        base = import_vggface_weights(path=path)
        return None, f"Imported the VGG-Face base '{base.key}' (sha256 {base.sha256[:12]}…)."
    if kind == "race_model":
        labels = [label.strip() for label in (params.get("labels") or "").split(",") if label.strip()]
        progress(gettext_noop("Checking and copying the weights"), 0.3, None)
        mv = import_race_model(path=path, labels=labels)
        return mv, f"Imported '{mv.name}' as {mv.key}, groups of {mv.label_set.name}. Evaluate it from its card."
    raise ImportDirError(f"Unknown kind of import: {kind}.")


def report_text(report) -> str:
    """The importer's report: images per split and group, files skipped and why."""
    dataset = report.dataset
    lines = [f"Imported {dataset.name}: {dataset.images.count():,} images."]
    lines += report.lines(dataset.label_set.labels)
    return "\n".join(lines)
