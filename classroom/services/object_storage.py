"""Object storage for an operator: is it fit for photos (a write, read, list and delete through
the storage API the app uses, on each storage; no anonymous reads, no old versions kept after a
delete: ethitech.private_s3), and moving an installation's files there from local disk."""

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages

CHECK_DIR = "storage-check"  # a folder of its own: no purge or listing of the app's looks here


@dataclass
class StorageReport:
    configured: bool
    passed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _round_trip(alias: str, storage, report: StorageReport) -> str | None:
    """Write, read back, list and delete a small file; returns its name while it exists (for more checks)."""
    data = secrets.token_bytes(64)
    name = storage.save(f"{CHECK_DIR}/{secrets.token_hex(8)}.bin", ContentFile(data))
    with storage.open(name, "rb") as fh:
        if fh.read() != data:
            report.problems.append(f"{alias}: a file read back differs from what was written.")
    if name.rsplit("/", 1)[-1] not in storage.listdir(CHECK_DIR)[1]:
        report.problems.append(f"{alias}: a file just written is missing from its folder's listing.")
    return name


def check_object_storage() -> StorageReport:
    if "models" not in settings.STORAGES:
        return StorageReport(configured=False)
    report = StorageReport(configured=True)
    for alias, what in (("default", "photos"), ("models", "model files")):
        storage = storages[alias]
        name = None
        try:
            name = _round_trip(alias, storage, report)
            if alias == "default" and hasattr(storage, "privacy_problems"):
                problems, notes = storage.privacy_problems(name)
                report.problems += problems
                report.notes += notes
        except Exception as exc:  # noqa: BLE001 - every failure is the answer, in words
            report.problems.append(f"{alias} ({what}): {exc.__class__.__name__}: {exc}")
        finally:
            if name is not None:
                storage.delete(name)
                if storage.exists(name):
                    report.problems.append(f"{alias}: a deleted file is still there.")
        if not any(p.startswith(alias) for p in report.problems):
            report.passed.append(f"{what}: write, read, list and delete work")
    return report


@dataclass
class MoveReport:
    photos: int = 0  # files moved from MEDIA_ROOT (uploads kept by teachers, gallery copies, audits)
    models: int = 0  # model files copied to the bucket


def move_to_object_storage() -> MoveReport:
    """Move every file under MEDIA_ROOT to the bucket (same names; each local copy is deleted once
    the bucket has it, so no photo is left behind on disk) and copy every registered model file
    there (the local one stays: it is this machine's copy). Safe to run again."""
    from inference.artifacts import publish, remote_store, store_path
    from inference.models import BaseWeights, ModelVersion

    if remote_store() is None:
        raise ValueError("Set ETHITECH_S3_BUCKET (and the other ETHITECH_S3_* settings) first.")
    report = MoveReport()
    media, root = storages["default"], Path(settings.MEDIA_ROOT)
    for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []:
        name = path.relative_to(root).as_posix()
        if not media.exists(name):
            with open(path, "rb") as fh:
                if media.save(name, fh) != name:
                    raise RuntimeError(f"{name} was stored under another name; nothing more was moved.")
        path.unlink()
        report.photos += 1
    in_use = set(ModelVersion.objects.values_list("artifact_path", flat=True))
    in_use |= set(BaseWeights.objects.values_list("artifact_path", flat=True))
    for relative in sorted(in_use):
        if store_path(relative).is_file():
            publish(relative)
            report.models += 1
    return report
