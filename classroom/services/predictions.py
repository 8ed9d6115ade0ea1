"""The worker side of a prediction: claim it, run the model, store the answer.

Idempotent: a prediction that is already final is never run again, however
often its task is delivered. Every state change locks the submission row first,
so the "all predictions final -> delete the photo" check sees its siblings'
committed results.
"""

import logging

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import Prediction, Submission
from .retention import release_photo

log = logging.getLogger(__name__)


def _lock(prediction_id: int) -> tuple[Submission, Prediction] | None:
    submission_id = Prediction.objects.filter(pk=prediction_id).values_list("submission_id", flat=True).first()
    if submission_id is None:
        return None
    submission = Submission.objects.select_for_update().get(pk=submission_id)
    prediction = Prediction.objects.select_for_update().select_related("model_version__label_set").get(pk=prediction_id)
    return submission, prediction


def _claimable(prediction: Prediction, now) -> bool:
    """A running prediction is left alone while its claim is fresh: a batch on
    some worker has it. Claims older than the family's lease are abandoned
    (a worker died) and may be run again."""
    if prediction.status != Prediction.Status.RUNNING or prediction.started_at is None:
        return True
    lease = settings.PREDICTION_LEASE_SECONDS.get(prediction.model_version.family, 0)
    return (now - prediction.started_at).total_seconds() >= lease


def _give_up_message() -> str:
    return (
        f"Gave up after {settings.PREDICTION_MAX_ATTEMPTS} attempts (the worker stopped each time). "
        "Try submitting the photo again; if it keeps happening, tell your teacher."
    )


def _claim(prediction_id: int) -> list[tuple[int, str]]:
    """Mark this prediction running and, for batched families, up to B-1 other
    pending ones of the same model (SKIP LOCKED: never wait for another worker).
    Returns [(prediction id, photo name)] to run."""
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(prediction_id)
        if locked is None:
            return []
        submission, prediction = locked
        if prediction.is_final or not _claimable(prediction, now):
            return []
        prediction.attempts += 1
        if prediction.attempts > settings.PREDICTION_MAX_ATTEMPTS:
            _finish(submission, prediction, error=_give_up_message())
            return []
        prediction.status = Prediction.Status.RUNNING
        prediction.started_at = now
        prediction.save(update_fields=["attempts", "status", "started_at"])
        claimed = [(prediction.pk, submission.photo)]
        batch = settings.PREDICTION_BATCH_SIZE.get(prediction.model_version.family, 1)
        if batch > 1:
            others = list(
                Prediction.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(model_version=prediction.model_version, status=Prediction.Status.PENDING)
                .exclude(pk=prediction.pk)
                .select_related("submission")
                .order_by("created_at")[: batch - 1]
            )
            Prediction.objects.filter(pk__in=[o.pk for o in others]).update(
                status=Prediction.Status.RUNNING, started_at=now, attempts=F("attempts") + 1
            )
            claimed += [(o.pk, o.submission.photo) for o in others]
    return claimed


def run_prediction(*, prediction_id: int) -> str:
    """Run a prediction (and, for VGG-Face, a batch of pending ones) to a final state."""
    from inference.services import predict_photos  # heavy imports stay in the worker

    claimed = _claim(prediction_id)
    if not claimed:
        return Prediction.objects.filter(pk=prediction_id).values_list("status", flat=True).first() or "missing"
    model_version = Prediction.objects.select_related("model_version__label_set").get(pk=prediction_id).model_version

    runnable = []
    for pid, photo in claimed:
        if photo and default_storage.exists(photo):
            runnable.append((pid, photo))
        else:
            finish_prediction(
                prediction_id=pid, error="The photo is no longer stored, so this model could not look at it."
            )
    if runnable:
        files = [default_storage.open(photo, "rb") for _, photo in runnable]
        try:
            outcomes = predict_photos(model_version=model_version, sources=files)
        except Exception as exc:
            log.exception("Predictions %s (%s) failed", [pid for pid, _ in runnable], model_version.key)
            for pid, _ in runnable:
                finish_prediction(prediction_id=pid, error=_user_message(exc))
        else:
            for (pid, _), outcome in zip(runnable, outcomes, strict=True):
                finish_prediction(prediction_id=pid, outcome=outcome)
        finally:
            for fh in files:
                fh.close()
    return Prediction.objects.filter(pk=prediction_id).values_list("status", flat=True).first()


def _user_message(exc: Exception) -> str:
    from inference.predictors import ModelArtifactError

    if isinstance(exc, (ModelArtifactError, FileNotFoundError)):
        return str(exc)
    return f"This model could not process the photo ({type(exc).__name__}). The other models are unaffected."


@transaction.atomic
def finish_prediction(*, prediction_id: int, outcome=None, error: str = "") -> str:
    locked = _lock(prediction_id)
    if locked is None:
        return "missing"
    submission, prediction = locked
    if prediction.is_final:
        return prediction.status  # a duplicate delivery finished first; keep its answer
    _finish(submission, prediction, outcome=outcome, error=error)
    return prediction.status


def _finish(submission: Submission, prediction: Prediction, *, outcome=None, error: str = "") -> None:
    if outcome is not None:
        prediction.status = Prediction.Status.DONE
        prediction.label = outcome.label
        prediction.probabilities = outcome.probabilities
        prediction.face_found = outcome.face_found
        prediction.latency_ms = outcome.latency_ms
        prediction.error = ""
    else:
        prediction.status = Prediction.Status.FAILED
        prediction.error = error[:2000]
    prediction.finished_at = timezone.now()
    prediction.save()
    still_open = submission.predictions.exclude(status__in=Prediction.FINAL).exists()
    if not still_open:
        release_photo(submission)  # deleted now, or kept for the assignment's retention period
