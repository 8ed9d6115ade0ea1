"""How long photos stay: deleted as soon as every model has answered, unless
the assignment keeps them for a set number of days; and a periodic purge that
deletes expired photos and anything a crash left behind."""

import logging
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from ..models import GalleryImage, Prediction, Submission
from .submissions import delete_photo

log = logging.getLogger(__name__)

UPLOAD_DIR = "uploads"
# A file younger than this may belong to a submission still being saved.
ORPHAN_GRACE = timedelta(hours=1)


def release_photo(submission: Submission) -> None:
    """Called, inside the transaction, when every prediction of a submission is final."""
    days = submission.assignment.keep_photos_days  # callers lock the submission with its assignment
    if days and submission.photo:
        Submission.objects.filter(pk=submission.pk).update(photo_delete_after=timezone.now() + timedelta(days=days))
    else:
        # Privacy by default: the photo goes as soon as every model has answered.
        transaction.on_commit(lambda: delete_photo(submission))


def purge_photos(*, now=None) -> dict:
    """Delete photos past their retention, photos whose deletion a crash
    interrupted, and stored files no submission refers to."""
    now = now or timezone.now()
    stored = Submission.objects.exclude(photo="")
    expired = stored.filter(photo_delete_after__lte=now)
    open_predictions = Prediction.objects.filter(submission=OuterRef("pk")).exclude(status__in=Prediction.FINAL)
    forgotten = stored.filter(
        photo_delete_after__isnull=True, created_at__lt=now - ORPHAN_GRACE, assignment__keep_photos_days__isnull=True
    ).exclude(Exists(open_predictions))
    counts = {"expired": 0, "forgotten": 0, "orphan_files": 0}
    for key, qs in (("expired", expired), ("forgotten", forgotten)):
        for submission in qs.only("pk", "photo"):
            delete_photo(submission)
            counts[key] += 1
    from ..audits.services import purge as purge_audits  # audits of a collection
    from .gallery import GALLERY_DIR  # the classes' test galleries

    counts["orphan_files"] = (
        delete_orphan_files(UPLOAD_DIR, Submission, now)
        + delete_orphan_files(GALLERY_DIR, GalleryImage, now)
        + purge_audits(now)
    )
    if any(counts.values()):
        log.info("Photo purge: %s", counts)
    return counts


def delete_orphan_files(folder: str, model, now) -> int:
    """Delete files in `folder` that no row of `model` refers to (by its `photo`)."""
    return delete_unreferenced_files(
        folder, lambda paths: set(model.objects.filter(photo__in=paths).values_list("photo", flat=True)), now
    )


def delete_unreferenced_files(folder: str, referenced, now, grace=ORPHAN_GRACE) -> int:
    """Delete files in `folder` older than `grace` that are not in `referenced(paths)`."""
    try:
        _, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return 0
    paths = [f"{folder}/{n}" for n in names]
    kept = referenced(paths)
    removed = 0
    for path in paths:
        if path in kept:
            continue
        try:
            if default_storage.get_modified_time(path) > now - grace:
                continue
            default_storage.delete(path)
            removed += 1
        except FileNotFoundError:
            continue
    return removed
