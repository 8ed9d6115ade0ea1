"""Helpers shared by tests: generated images, stored-file checks, waiting on workers."""

import io
import time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(fmt="PNG", size=(96, 96), color=(180, 140, 120), mode="RGB", **save_args) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color if mode == "RGB" else None).save(buf, format=fmt, **save_args)
    return buf.getvalue()


def synthetic_upload(group=0, index=0, name="face.png") -> SimpleUploadedFile:
    from training import synthetic

    buf = io.BytesIO()
    Image.fromarray(synthetic.generate_image(group, index, split="gallery")).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def stored_uploads() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "uploads"
    return sorted(folder.glob("*")) if folder.exists() else []


def wait_until_final(submission, timeout=60):
    from classroom.models import Prediction

    deadline = time.time() + timeout
    while time.time() < deadline:
        statuses = list(Prediction.objects.filter(submission=submission).values_list("status", flat=True))
        if statuses and all(s in Prediction.FINAL for s in statuses):
            return
        time.sleep(0.2)
    from tests.workers import worker_logs

    raise AssertionError(f"Predictions not final after {timeout}s: {statuses}\nworker logs:\n{worker_logs()}")


def media_files() -> list[Path]:
    """Every file under MEDIA_ROOT: a photo or any copy of it would show up here."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
