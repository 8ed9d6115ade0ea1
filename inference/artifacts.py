"""Model files in the model store: checksums, atomic writes, and the copy in object storage.

On one machine the folder MODEL_STORE is the store. With object storage (a `models` entry in
settings.STORAGES, see ethitech/object_storage.py) every new file is also copied to the
bucket, and a machine that lacks a file (a worker on another host) fetches it once into its
own MODEL_STORE, which is then a cache: files there that no model uses any more are pruned.
"""

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings

REMOTE = "models"  # the STORAGES alias of the bucket's copy
# Folders of registered model files; the store's other folders (the lab's prepared inputs,
# training checkpoints) belong to the machine that made them and are never pruned.
ARTIFACT_FOLDERS = ("mlp", "vgg", "vggface")


def store_path(relative: str) -> Path:
    return Path(settings.MODEL_STORE) / relative


def remote_store():
    """The object storage holding a copy of every model file, or None (the folder is the store)."""
    if REMOTE not in settings.STORAGES:
        return None
    from django.core.files.storage import storages

    return storages[REMOTE]


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
    publish(relative)
    return relative, digest


def publish(relative: str) -> None:
    """Copy a model file to the object storage, where there is one, for workers elsewhere. A file
    that cannot be copied is removed here too: no model is registered that other machines lack."""
    remote = remote_store()
    if remote is None or remote.exists(relative):
        return  # the name carries the checksum: a file of that name holds these bytes
    try:
        with open(store_path(relative), "rb") as fh:
            remote.save(relative, fh)
    except BaseException:
        store_path(relative).unlink(missing_ok=True)
        raise


def local_file(relative: str) -> Path:
    """The model file on this machine; fetched from the object storage first if it is not here
    yet (a missing file is left missing: the caller says so). Checksums are the caller's."""
    path = store_path(relative)
    remote = remote_store()
    if remote is None or path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as out, remote.open(relative, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
        os.replace(tmp, path)  # two processes fetching at once: either copy is whole
    except FileNotFoundError:
        pass
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def delete_artifact(relative: str) -> None:
    """Remove a model file from this machine and from the object storage. Other machines' cached
    copies go at their next prune (prune_cached_copies)."""
    store_path(relative).unlink(missing_ok=True)
    remote = remote_store()
    if remote is not None:
        remote.delete(relative)


def prune_cached_copies(in_use: set[str], *, older_than: float = 3600) -> list[str]:
    """With object storage, delete this machine's copies of model files no model uses any more
    (deleted lab models, replaced imports). Files younger than `older_than` seconds may be
    waiting for their registration and are kept. Without object storage nothing is touched."""
    if remote_store() is None:
        return []
    root = Path(settings.MODEL_STORE)
    cutoff = time.time() - older_than
    removed = []
    for folder in ARTIFACT_FOLDERS:
        for path in sorted((root / folder).glob("*")):
            relative = path.relative_to(root).as_posix()
            if relative in in_use or not path.is_file():
                continue  # (a `.tmp-` file this old is a crashed write's: it goes too)
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(relative)
            except FileNotFoundError:
                continue
    return removed
