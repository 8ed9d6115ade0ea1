"""Submitting a photo (an upload, or an image of the class's test gallery): intake,
storage, one pending prediction per model, and the tasks queued once the
transaction has committed."""

import logging
import secrets
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from inference.intake import clean_upload

from .. import selectors
from ..models import Assignment, GalleryImage, Prediction, Submission, User
from . import rate_limits

log = logging.getLogger(__name__)

MAX_NOTE_LENGTH = 1000
CONSENT_MISSING = gettext_noop(
    "Your teacher has not yet confirmed the school's consent policy for this class, "
    "so photos cannot be submitted yet. Please ask your teacher."
)


UPLOADS_OFF = gettext_noop(
    "This experiment uses the class's test gallery: pick an image from it. "
    "Your teacher has not turned on uploads for this experiment."
)


PREDICT_FIRST = gettext_noop(
    "Before your first test, answer the prediction questions at the top of the experiment page."
)
# "Who decides the label?": what a student may perceive besides the dataset's groups. Stored as
# they are (in English, like a group's name); shown translated: gettext(NOT_SURE).
NOT_SURE = gettext_noop("Not sure")
MORE_THAN_ONE = gettext_noop("More than one group")


class SubmissionError(ValueError):
    """The submission cannot be accepted; the message says why."""


class TooManyTests(SubmissionError):
    """The per-student limit on tests per minute (pages and API share it)."""


def expected_choices(assignment: Assignment) -> list[str]:
    labels = list(assignment.label_set.labels)
    return labels + [NOT_SURE, MORE_THAN_ONE] if assignment.perception_activity else labels


def needs_predictions_first(assignment: Assignment, student: User) -> bool:
    """Predict before testing: the experiment asks for predictions and this student has none yet."""
    from ..models import LessonResponse

    if not (assignment.ask_predictions and assignment.prediction_questions):
        return False
    return not LessonResponse.objects.filter(
        assignment=assignment, student=student, kind=LessonResponse.Kind.PREDICTION
    ).exists()


def update_note(*, submission: Submission, student: User, note: str) -> Submission:
    """A note can be written or changed after the answer, not only before."""
    if submission.student_id != student.pk:
        raise PermissionError(gettext("Only the student who made this test can change its note."))
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise SubmissionError(gettext("The note can be at most %(max)s characters.") % {"max": MAX_NOTE_LENGTH})
    submission.note = note
    submission.save(update_fields=["note"])
    return submission


def assignment_is_open(assignment: Assignment, now=None) -> bool:
    now = now or timezone.now()
    if assignment.closed_at is not None:
        return False
    return assignment.opens_at <= now and (assignment.due_at is None or now <= assignment.due_at)


def submit_photo(
    *,
    assignment: Assignment,
    student: User,
    upload=None,
    gallery_image: GalleryImage | None = None,
    expected_label: str = "",
    note: str = "",
) -> Submission:
    """Validate and store a photo, then queue every model of the assignment on it.

    The photo is an upload, or (`gallery_image`) an image of the class's test
    gallery: then its copy goes the same way and its known group is kept as the
    submission's true label. The class's teacher may submit too: a preview test,
    shown as such and never part of the class results."""
    if not assignment_is_open(assignment):
        raise SubmissionError(gettext("This experiment is not open for submissions right now."))
    try:
        rate_limits.check_uploads(student)  # the same count for the pages and the API
    except rate_limits.RateLimited as exc:
        raise TooManyTests(str(exc))
    if not assignment.classroom.consent_confirmed:
        raise SubmissionError(gettext(CONSENT_MISSING))
    preview = student.pk == assignment.classroom.teacher_id
    if not preview and not assignment.classroom.enrollments.filter(student=student).exists():
        raise PermissionError(gettext("Only students of this class can submit."))
    expected_label = (expected_label or "").strip()
    if expected_label and (not assignment.ask_expected or expected_label not in expected_choices(assignment)):
        raise SubmissionError(gettext("Pick the expected group from the list, or leave it empty."))
    if not preview and needs_predictions_first(assignment, student):
        raise SubmissionError(gettext(PREDICT_FIRST))
    if len(note or "") > MAX_NOTE_LENGTH:
        raise SubmissionError(gettext("The note can be at most %(max)s characters.") % {"max": MAX_NOTE_LENGTH})

    if (upload is None) == (gallery_image is None):
        raise SubmissionError(gettext("Choose one photo: an upload or an image from the class gallery."))
    if gallery_image is not None:
        data, true_label = _gallery_photo(assignment, gallery_image), gallery_image.label
    else:
        if not selectors.uploads_allowed(assignment):
            raise SubmissionError(gettext(UPLOADS_OFF))
        data, true_label = clean_upload(upload, size=getattr(upload, "size", None)).data, ""  # raises IntakeError
    # The experiment's models, and the student's (team's) finished lab models.
    models = list(assignment.model_versions.all())
    if not preview:
        models += selectors.lab_models_ready(assignment, student)
    face_box = _faces_found_now(data, models)
    # A random name: the stored file says nothing about who or what it shows.
    name = default_storage.save(f"uploads/{secrets.token_hex(16)}.jpg", ContentFile(data))
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                assignment=assignment,
                student=student,
                photo=name,
                face_box=face_box,
                expected_label=expected_label,
                note=note or "",
                gallery_image=gallery_image,
                true_label=true_label,
                preview=preview,
            )
            predictions = Prediction.objects.bulk_create(
                [Prediction(submission=submission, assignment=assignment, model_version=mv) for mv in models]
            )
            # One task per queue: it claims its siblings on that queue, so the worker
            # decodes the photo and finds the face once for both MLPs.
            first_on_queue = {}
            for prediction in predictions:
                first_on_queue.setdefault(prediction.model_version.queue, prediction.pk)
            for queue, prediction_id in first_on_queue.items():
                transaction.on_commit(partial(enqueue_prediction, prediction_id, queue))
    except BaseException:
        default_storage.delete(name)  # nothing is stored for a submission that does not exist
        raise
    return submission


def _faces_found_now(data: bytes, models) -> dict | None:
    """Where the face is, found once here, before either worker needs the photo: {detector: box}
    for the detectors of `models` that the web may run, or None. Otherwise the MLP and VGG-Face
    workers each took a photo at the same moment and both searched it (55 CPU-ms each in a phone
    photo, on the two cores the VGG-Face forward wants). Any failure only means the workers search."""
    if not settings.FIND_FACES_AT_UPLOAD:
        return None
    try:
        from inference.preprocessing import InputSpec  # OpenCV: loaded at the web server's start (ethitech/wsgi.py)
        from inference.services import WEB_DETECTORS, find_faces

        detectors = {InputSpec.from_dict(mv.input_spec).detector for mv in models} & set(WEB_DETECTORS)
        return find_faces(data, sorted(detectors)) if detectors else None
    except Exception:  # noqa: BLE001 - a photo the intake accepted is never refused for this
        log.exception("Finding the face at upload failed; the workers will look for it")
        return None


def _gallery_photo(assignment: Assignment, image: GalleryImage) -> bytes:
    """The gallery copy's bytes (already re-encoded without metadata when it was published)."""
    if image.classroom_id != assignment.classroom_id or image.label_set_id != assignment.label_set_id:
        raise SubmissionError(gettext("That image is not in this experiment's gallery. Pick one shown on the page."))
    try:
        with default_storage.open(image.photo, "rb") as fh:
            return fh.read()
    except OSError:
        log.error("Gallery image %s: its file %s is missing", image.public_id, image.photo)
        raise SubmissionError(
            gettext("That gallery image cannot be read right now. Pick another one, or tell your teacher.")
        )


def enqueue_prediction(prediction_id: int, queue: str) -> bool:
    """Send the task. If the broker is unreachable the prediction stays pending, marked unsent, and
    a worker sends it once the broker is back (services.redelivery). Returns whether it was sent."""
    from ..tasks import run_prediction

    try:
        run_prediction.apply_async(args=[prediction_id], queue=queue, retry=True, retry_policy={"max_retries": 2})
        return True
    except Exception as exc:  # noqa: BLE001 - whatever the broker raised, the photo must not be lost
        log.warning(
            "Could not queue prediction %s on %s (%s); it is sent again when the broker is back",
            prediction_id,
            queue,
            exc,
        )
    try:
        Prediction.objects.filter(pk=prediction_id, status=Prediction.Status.PENDING).update(unsent=True)
    except DatabaseError:
        log.exception("Prediction %s could not be marked unsent either; the sweeper will send it", prediction_id)
    return False


def delete_photo(submission: Submission) -> None:
    """Remove the stored photo; the test itself (labels, note) stays."""
    if submission.photo:
        default_storage.delete(submission.photo)
        Submission.objects.filter(pk=submission.pk).update(photo="", photo_deleted_at=timezone.now(), face_box=None)
