"""Generated collections for audit tests: zips of synthetic faces of a known make-up."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def face_png(group: int, index: int) -> bytes:
    from training import synthetic

    buf = io.BytesIO()
    Image.fromarray(synthetic.generate_image(group, index, split="gallery", seed=7)).save(buf, format="PNG")
    return buf.getvalue()


def zip_upload(entries: dict[str, bytes], name="collection.zip") -> SimpleUploadedFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="application/zip")


def collection_of(counts: list[int]) -> dict[str, bytes]:
    """counts[g] generated faces of group g, named so the name says nothing about the group."""
    entries, n = {}, 0
    for group, count in enumerate(counts):
        for i in range(count):
            entries[f"photos/img_{n:04d}.png"] = face_png(group, i)
            n += 1
    return entries


def run_workers(audit, committed):
    """What the workers do, in this process: clean the uploads, then each family's models."""
    from classroom.audits import services

    services.prepare(audit.pk)
    for family in ("mlp", "vgg"):
        committed(services.answer_queue, audit.pk, family)
    audit.refresh_from_db()
    return audit
