"""A class's test gallery: labelled, held-out images a teacher publishes so students
can test the models without uploading photos of anyone.

Each published image is a private copy: read from the imported dataset, checked
and re-encoded by the same intake as uploads (no metadata), and stored under a
random name outside `uploads/`. Only members of the class see it, through an
authenticated view.
"""

import logging
import random
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from inference.intake import IntakeError, clean_bytes
from training.models import Dataset, DatasetImage

from ..models import Classroom, GalleryImage, User

log = logging.getLogger(__name__)

GALLERY_DIR = "gallery"
MAX_PER_GROUP = 50
MAX_PER_CLASS = 600


class GalleryError(ValueError):
    """The gallery cannot be published as asked; the message says why."""


@dataclass
class PublishReport:
    added: dict[str, int] = field(default_factory=dict)  # group -> images added
    short: dict[str, int] = field(default_factory=dict)  # group -> how many fewer than asked
    skipped: int = 0  # unreadable or missing files

    @property
    def total(self) -> int:
        return sum(self.added.values())

    def message(self, per_group: int) -> str:
        parts = [
            ngettext("Added %(n)s image to the gallery.", "Added %(n)s images to the gallery.", self.total)
            % {"n": self.total}
        ]
        if self.short:
            detail = ", ".join(gettext("%(group)s: %(n)s fewer") % {"group": g, "n": n} for g, n in self.short.items())
            parts.append(
                gettext("Some groups have fewer than %(n)s held-out images not yet in the gallery (%(detail)s).")
                % {"n": per_group, "detail": detail}
            )
        if self.skipped:
            parts.append(
                ngettext(
                    "%(n)s file could not be read and was skipped.",
                    "%(n)s files could not be read and were skipped.",
                    self.skipped,
                )
                % {"n": self.skipped}
            )
        return " ".join(parts)


def _source_file(dataset: Dataset, image: DatasetImage) -> Path | None:
    """The dataset file, refusing any path that would leave the dataset's folder."""
    root = Path(dataset.root).resolve()
    path = (root / image.path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def _clean_copy(path: Path):
    if path.stat().st_size > settings.UPLOAD_MAX_BYTES:
        raise IntakeError("too large")
    return clean_bytes(path.read_bytes(), max_pixels=settings.UPLOAD_MAX_PIXELS)


def publish_gallery(
    *, classroom: Classroom, teacher: User, dataset: Dataset, per_group: int, seed: int = 0
) -> PublishReport:
    """Add up to `per_group` held-out images of every group of `dataset` to the class gallery.

    Images already in the gallery are not added again; the pick is deterministic
    (seeded), so publishing twice with the same numbers adds the next images.
    """
    if classroom.teacher_id != teacher.pk:
        raise PermissionError(gettext("Only the class's teacher can publish its gallery."))
    if not 1 <= per_group <= MAX_PER_GROUP:
        raise GalleryError(gettext("Choose between 1 and %(max)s images per group.") % {"max": MAX_PER_GROUP})
    labels = list(dataset.label_set.labels)
    existing = GalleryImage.objects.filter(classroom=classroom).count()
    if existing + per_group * len(labels) > MAX_PER_CLASS:
        raise GalleryError(
            gettext(
                "A class gallery holds at most %(max)s images; this one has %(n)s. "
                "Remove some, or choose fewer per group."
            )
            % {"max": MAX_PER_CLASS, "n": existing}
        )
    published = set(
        GalleryImage.objects.filter(classroom=classroom, dataset_image__dataset=dataset).values_list(
            "dataset_image_id", flat=True
        )
    )
    report = PublishReport()
    rows: list[GalleryImage] = []
    try:
        for label in labels:
            pool = list(
                dataset.images.filter(split=DatasetImage.Split.TEST, label=label)
                .exclude(pk__in=published)
                .order_by("path")
            )
            random.Random(f"{seed}:{label}").shuffle(pool)
            added = 0
            for image in pool:
                if added == per_group:
                    break
                path = _source_file(dataset, image)
                try:
                    if path is None:
                        raise IntakeError("missing")
                    clean = _clean_copy(path)
                except (IntakeError, OSError) as exc:
                    log.warning("Gallery: skipped %s (%s)", image, exc)
                    report.skipped += 1
                    continue
                name = default_storage.save(f"{GALLERY_DIR}/{secrets.token_hex(16)}.jpg", ContentFile(clean.data))
                rows.append(
                    GalleryImage(
                        classroom=classroom,
                        dataset_image=image,
                        label_set=dataset.label_set,
                        label=label,
                        gender=image.gender,
                        age_group=image.age_group,
                        source=dataset.name,
                        synthetic=dataset.synthetic,
                        photo=name,
                        width=clean.width,
                        height=clean.height,
                        published_by=teacher,
                    )
                )
                added += 1
            report.added[label] = added
            if added < per_group:
                report.short[label] = per_group - added
        with transaction.atomic():
            GalleryImage.objects.bulk_create(rows)
    except BaseException:
        for row in rows:  # nothing is left behind for images that were not published
            default_storage.delete(row.photo)
        raise
    return report


def remove_gallery(*, classroom: Classroom, teacher: User, source: str | None = None) -> int:
    """Remove the class's gallery images (of one source, or all) and their files.

    Tests already made with them keep their true label; they just no longer
    point at an image."""
    if classroom.teacher_id != teacher.pk:
        raise PermissionError(gettext("Only the class's teacher can change its gallery."))
    qs = GalleryImage.objects.filter(classroom=classroom)
    if source is not None:
        qs = qs.filter(source=source)
    names = list(qs.values_list("photo", flat=True))
    with transaction.atomic():
        qs.delete()
        transaction.on_commit(lambda: _delete_files(names))
    return len(names)


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def purge_orphan_files(*, now=None) -> int:
    """Delete gallery files no gallery image refers to (e.g. after a class was deleted); files
    younger than retention.ORPHAN_GRACE may belong to a gallery being published."""
    from .retention import delete_orphan_files

    return delete_orphan_files(GALLERY_DIR, GalleryImage, now or timezone.now())
