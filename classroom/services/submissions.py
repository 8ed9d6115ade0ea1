"""Submitting a photo: intake, storage, one pending prediction per model,
and the tasks queued once the transaction has committed."""

import logging
import secrets
from functools import partial

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from inference.intake import clean_upload

from ..models import Assignment, Prediction, Submission, User

log = logging.getLogger(__name__)

MAX_NOTE_LENGTH = 1000
CONSENT_MISSING = (
    "Your teacher has not yet confirmed the school's consent policy for this class, "
    "so photos cannot be submitted yet. Please ask your teacher."
)


class SubmissionError(ValueError):
    """The submission cannot be accepted; the message says why."""


def assignment_is_open(assignment: Assignment, now=None) -> bool:
    now = now or timezone.now()
    return assignment.opens_at <= now and (assignment.due_at is None or now <= assignment.due_at)


def submit_photo(
    *, assignment: Assignment, student: User, upload, expected_label: str = "", note: str = ""
) -> Submission:
    """Validate and store a photo, then queue every model of the assignment on it."""
    if not assignment_is_open(assignment):
        raise SubmissionError("This experiment is not open for submissions right now.")
    if not assignment.classroom.consent_confirmed:
        raise SubmissionError(CONSENT_MISSING)
    if not assignment.classroom.enrollments.filter(student=student).exists():
        raise PermissionError("Only students of this class can submit.")
    expected_label = (expected_label or "").strip()
    if expected_label and (not assignment.ask_expected or expected_label not in assignment.label_set.labels):
        raise SubmissionError("Pick the expected group from the list, or leave it empty.")
    if len(note or "") > MAX_NOTE_LENGTH:
        raise SubmissionError(f"The note can be at most {MAX_NOTE_LENGTH} characters.")

    clean = clean_upload(upload, size=getattr(upload, "size", None))  # raises IntakeError
    # A random name: the stored file says nothing about who or what it shows.
    name = default_storage.save(f"uploads/{secrets.token_hex(16)}.jpg", ContentFile(clean.data))
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                assignment=assignment, student=student, photo=name, expected_label=expected_label, note=note or ""
            )
            predictions = [
                Prediction.objects.create(submission=submission, model_version=mv)
                for mv in assignment.model_versions.all()
            ]
            for prediction in predictions:
                transaction.on_commit(partial(enqueue_prediction, prediction.pk, prediction.model_version.queue))
    except BaseException:
        default_storage.delete(name)  # nothing is stored for a submission that does not exist
        raise
    return submission


def enqueue_prediction(prediction_id: int, queue: str) -> None:
    """Send the task; if the broker is unreachable the prediction stays pending and can be re-queued."""
    from ..tasks import run_prediction

    try:
        run_prediction.apply_async(args=[prediction_id], queue=queue, retry=True, retry_policy={"max_retries": 2})
    except Exception:
        log.exception("Could not queue prediction %s on %s; it stays pending", prediction_id, queue)


def delete_photo(submission: Submission) -> None:
    """Remove the stored photo; the test itself (labels, note) stays."""
    if submission.photo:
        default_storage.delete(submission.photo)
        Submission.objects.filter(pk=submission.pk).update(photo="", photo_deleted_at=timezone.now())
