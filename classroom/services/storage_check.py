"""Is the object storage fit for photos? A write, read, list and delete through the same
storage API the app uses, on each storage (photos, model copies), and the bucket's privacy:
no anonymous reads, no old versions kept after a delete (ethitech.private_s3)."""

import secrets
from dataclasses import dataclass, field

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
