"""A collection's files, in two steps.

In the request (`accept`), only what is cheap: the number of files, their total size, and for
a zip its table of contents (entry names, declared sizes): a zip bomb, a path trick or too many
images are refused before anything is stored. The files are then stored as they came.

In a worker (`clean_entries`), every image goes through the same intake as a submission
(format allow-list, pixel limits, metadata stripped, re-encoded); what cannot be used is
skipped and counted with the reason.
"""

import io
import posixpath
import secrets
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext, gettext_noop

from inference.intake import IntakeError, clean_upload
from inference.stored_text import declare

# A single photo never compresses 100:1; a bomb does (ZIP's deflate tops out near 1000:1).
MAX_RATIO = 100
MAX_SKIPPED_LISTED = 20

# Why a file was skipped: written by a worker in English, translated on the audit's page
# (inference.stored_text), like the intake's own reasons.
PASSWORD_PROTECTED = gettext_noop("It is password-protected.")
NOT_UNPACKED = declare(gettext_noop("It could not be unpacked (%(error)s)."))


class CollectionError(ValueError):
    """The collection is refused as a whole; the message says why and what to do."""


@dataclass
class Accepted:
    """Files stored as they came, waiting to be cleaned by a worker."""

    stored: list[dict]  # {"name": storage name, "label": the uploaded file's name, "zip": bool}
    image_count: int


@dataclass
class Cleaned:
    files: list[str] = field(default_factory=list)  # storage names of the re-encoded images
    skipped: list[dict] = field(default_factory=list)  # the first few {"name", "reason"}
    skipped_count: int = 0

    def skip(self, name: str, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_SKIPPED_LISTED:
            self.skipped.append({"name": name[:120], "reason": reason})


def _mb(n: int) -> str:
    return gettext("%(size)s MB") % {"size": f"{n / (1024 * 1024):.0f}"}


def _is_zip(upload) -> bool:
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    return head == b"PK\x03\x04" or upload.name.lower().endswith(".zip")


def _ignored(name: str) -> bool:
    """Folders and the files a computer adds to a zip by itself (never the user's photos)."""
    base = posixpath.basename(name.rstrip("/"))
    return name.endswith("/") or name.startswith("__MACOSX/") or base.startswith(".") or base == "Thumbs.db"


def _path_trick(info: zipfile.ZipInfo) -> bool:
    """A name that points outside the zip, or a link: refused even though nothing is unpacked to disk."""
    name = info.filename.replace("\\", "/")
    parts = name.split("/")
    is_link = stat.S_ISLNK(info.external_attr >> 16)
    return is_link or name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":")


def _zip_entries(upload) -> list[zipfile.ZipInfo]:
    """The zip's image candidates, after the checks that need only its table of contents."""
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise CollectionError(
            gettext("%(file)s is not a zip file we can open (it may be damaged). Make it again.")
            % {"file": upload.name}
        )
    with archive:
        infos = archive.infolist()
    for info in infos:
        if _path_trick(info):
            raise CollectionError(
                gettext(
                    "%(file)s was refused: its entry “%(entry)s” points outside the zip. "
                    "Make a new zip of just the photos."
                )
                % {"file": upload.name, "entry": info.filename[:80]}
            )
    entries = [i for i in infos if not _ignored(i.filename)]
    unpacked = sum(i.file_size for i in entries)
    if unpacked > settings.AUDIT_MAX_BYTES:
        raise CollectionError(
            gettext(
                "%(file)s would unpack to %(size)s; a collection can be at most %(max)s. Use fewer or smaller photos."
            )
            % {"file": upload.name, "size": _mb(unpacked), "max": _mb(settings.AUDIT_MAX_BYTES)}
        )
    for info in entries:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise CollectionError(
                gettext(
                    "%(file)s was refused: “%(entry)s” unpacks to %(ratio)s times its packed size or "
                    "more, which photos never do (this is how a “zip bomb” works)."
                )
                % {"file": upload.name, "entry": info.filename[:80], "ratio": MAX_RATIO}
            )
    return entries


def accept(uploads: list, *, prefix: str) -> Accepted:
    """Check the uploaded files (photos and zips) and store them as they came under `prefix`."""
    if not uploads:
        raise CollectionError(gettext("Choose some photos, or one zip file of photos."))
    total = sum(u.size for u in uploads)
    if total > settings.AUDIT_MAX_BYTES:
        raise CollectionError(
            gettext("These files add up to %(size)s; a collection can be at most %(max)s.")
            % {"size": _mb(total), "max": _mb(settings.AUDIT_MAX_BYTES)}
        )
    count = 0
    kinds = []
    for upload in uploads:
        is_zip = _is_zip(upload)
        count += len(_zip_entries(upload)) if is_zip else 1
        kinds.append(is_zip)
    if count > settings.AUDIT_MAX_IMAGES:
        raise CollectionError(
            gettext("This collection has %(n)s files; an audit takes at most %(max)s images. Choose fewer.")
            % {"n": count, "max": settings.AUDIT_MAX_IMAGES}
        )
    if count == 0:
        raise CollectionError(gettext("The zip file holds no files. Put the photos in a zip and try again."))
    stored = []
    try:
        for upload, is_zip in zip(uploads, kinds, strict=True):
            upload.seek(0)
            name = default_storage.save(f"{prefix}/incoming-{secrets.token_hex(8)}", upload)
            stored.append({"name": name, "label": upload.name[:120], "zip": is_zip})
    except BaseException:
        discard([s["name"] for s in stored])
        raise
    return Accepted(stored=stored, image_count=count)


def _entries(stored: list[dict], cleaned: Cleaned) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every candidate image; an entry that cannot be read is skipped."""
    limit = settings.UPLOAD_MAX_BYTES
    for item in stored:
        with default_storage.open(item["name"], "rb") as fh:
            if not item["zip"]:
                yield item["label"], fh.read(limit + 1)
                continue
            with zipfile.ZipFile(fh) as archive:
                for info in archive.infolist():
                    if _ignored(info.filename):
                        continue
                    name = posixpath.basename(info.filename) or info.filename
                    if info.flag_bits & 0x1:
                        cleaned.skip(name, PASSWORD_PROTECTED)
                        continue
                    try:
                        with archive.open(info) as entry:
                            data = entry.read(limit + 1)  # never more, whatever the header claims
                    except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError) as exc:
                        cleaned.skip(name, NOT_UNPACKED % {"error": exc.__class__.__name__})
                        continue
                    yield name, data


def clean_entries(stored: list[dict], *, prefix: str, progress=None) -> Cleaned:
    """Every image through the submission intake, re-encoded and stored under `prefix`."""
    cleaned = Cleaned()
    try:
        for i, (name, data) in enumerate(_entries(stored, cleaned)):
            try:
                image = clean_upload(io.BytesIO(data), size=len(data))
            except IntakeError as exc:
                cleaned.skip(name, str(exc))
            else:
                cleaned.files.append(
                    default_storage.save(f"{prefix}/{secrets.token_hex(8)}.jpg", ContentFile(image.data))
                )
            if progress is not None:
                progress(i + 1)
    except BaseException:
        discard(cleaned.files)
        raise
    return cleaned


def discard(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
