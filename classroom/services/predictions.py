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
from django.utils import timezone

from ..models import Prediction, Submission
from .submissions import delete_photo

log = logging.getLogger(__name__)


def _lock(prediction_id: int) -> tuple[Submission, Prediction] | None:
    submission_id = Prediction.objects.filter(pk=prediction_id).values_list("submission_id", flat=True).first()
    if submission_id is None:
        return None
    submission = Submission.objects.select_for_update().get(pk=submission_id)
    prediction = Prediction.objects.select_for_update().select_related("model_version__label_set").get(pk=prediction_id)
    return submission, prediction


def run_prediction(*, prediction_id: int) -> str:
    """Run one prediction to a final state. Returns the final status."""
    from inference.services import predict_photo  # heavy imports stay in the worker

    with transaction.atomic():
        locked = _lock(prediction_id)
        if locked is None:
            return "missing"
        submission, prediction = locked
        if prediction.is_final:
            return prediction.status
        prediction.attempts += 1
        if prediction.attempts > settings.PREDICTION_MAX_ATTEMPTS:
            _finish(
                submission,
                prediction,
                error=(
                    f"Gave up after {settings.PREDICTION_MAX_ATTEMPTS} attempts (the worker stopped each time). "
                    "Try submitting the photo again; if it keeps happening, tell your teacher."
                ),
            )
            return prediction.status
        prediction.status = Prediction.Status.RUNNING
        prediction.save(update_fields=["attempts", "status"])
        photo, model_version = submission.photo, prediction.model_version

    try:
        if not photo or not default_storage.exists(photo):
            raise FileNotFoundError("The photo is no longer stored, so this model could not look at it.")
        with default_storage.open(photo, "rb") as fh:
            outcome = predict_photo(model_version=model_version, source=fh)
    except Exception as exc:
        log.exception("Prediction %s (%s) failed", prediction_id, model_version.key)
        return finish_prediction(prediction_id=prediction_id, error=_user_message(exc))
    return finish_prediction(prediction_id=prediction_id, outcome=outcome)


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
        # Privacy by default: the photo goes as soon as every model has answered.
        transaction.on_commit(lambda: delete_photo(submission))
