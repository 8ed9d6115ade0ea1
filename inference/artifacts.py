"""Model files in the model store: checksums and atomic writes."""

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings


def store_path(relative: str) -> Path:
    return Path(settings.MODEL_STORE) / relative


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_artifact(folder: str, stem: str, suffix: str, write) -> tuple[str, str]:
    """Call write(tmp_path), then move the finished file into the model store.

    The final name carries the checksum, so re-training never overwrites a file
    that a registered model (or a running worker) still uses, and a crash
    mid-write leaves only a temp file, never a half-written model.
    Returns (path relative to the store, sha256).
    """
    directory = store_path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        digest = sha256_file(Path(tmp))
        relative = f"{folder}/{stem}-{digest[:12]}{suffix}"
        os.replace(tmp, store_path(relative))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return relative, digest
