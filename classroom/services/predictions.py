"""The worker side of predictions: claim them, run the models, store the answers.

A task names one prediction but works for its submission's whole queue: it
claims every open prediction of that submission whose model runs on the same
queue (the two MLPs of an experiment), so the photo is decoded and its face
found once. Batched families (VGG-Face) add up to B-1 pending predictions of
the same model from other submissions (SKIP LOCKED: never wait for another
worker) and run them as one batch.

A claim records the claiming task's id. When a worker process dies, Celery
delivers that task again with the same id, and it re-claims what it had
claimed at once; any other task leaves a claim alone for
PREDICTION_LEASE_SECONDS. Every claim counts an attempt, so a photo that keeps
killing its worker ends failed instead of looping.

Idempotent: a final prediction is never run again. Every state change locks
the submission row first, so the "all predictions final -> release the photo"
check sees its siblings' committed results.
"""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from inference.models import ModelVersion

from ..models import Prediction, Submission
from .retention import release_photo

log = logging.getLogger(__name__)

PHOTO_GONE = "The photo is no longer stored, so this model could not look at it."
PHOTO_UNREADABLE = "The stored photo could not be read, so no model could look at it. Try submitting the photo again."


@dataclass(frozen=True)
class Claimed:
    pk: int
    submission_id: int
    photo: str
    model_version: ModelVersion


@dataclass(frozen=True)
class Result:
    outcome: object = None  # inference.services.Outcome when the model answered
    error: str = ""


def run_prediction(*, prediction_id: int, claim_token: str = "") -> str:
    """Run a prediction, its siblings on the same queue and (for VGG-Face) a batch
    of pending ones to a final state. Returns the named prediction's status."""
    claimed, given_up = _claim(prediction_id, claim_token or uuid.uuid4().hex)
    finish_predictions({pk: Result(error=_give_up_message()) for pk in given_up})
    # Each model's answers are stored as soon as it has run: a worker dying later loses none of them.
    for results in _run([c for c in claimed if c.pk not in given_up]):
        finish_predictions(results)
    return Prediction.objects.filter(pk=prediction_id).values_list("status", flat=True).first() or "missing"


def _claimable(prediction: Prediction, now, token: str) -> bool:
    if prediction.status == Prediction.Status.PENDING:
        return True
    if prediction.status != Prediction.Status.RUNNING:
        return False
    if prediction.claim_token and prediction.claim_token == token:
        return True  # this task claimed it before and its worker died: run it now
    if prediction.started_at is None:
        return True
    # Someone else's claim: theirs until the lease runs out (their worker died without a redelivery).
    return (now - prediction.started_at).total_seconds() >= settings.PREDICTION_LEASE_SECONDS


def _give_up_message() -> str:
    return (
        f"Gave up after {settings.PREDICTION_MAX_ATTEMPTS} attempts (the worker stopped each time). "
        "Try submitting the photo again; if it keeps happening, tell your teacher."
    )


def _claim(prediction_id: int, token: str) -> tuple[list[Claimed], set[int]]:
    """Mark the predictions this task will run as running under `token`.
    Returns them, and the ids among them that have used up their attempts."""
    now = timezone.now()
    with transaction.atomic():
        submission = (
            Submission.objects.select_for_update(of=("self",)).filter(predictions=prediction_id).only("photo").first()
        )
        if submission is None:
            return [], set()
        own = list(
            Prediction.objects.select_for_update(of=("self",))
            .filter(submission=submission)
            .select_related("model_version__label_set")
        )
        target = next((p for p in own if p.pk == prediction_id), None)
        if target is None:
            return [], set()
        queue = target.model_version.queue
        group = [p for p in own if p.model_version.queue == queue and _claimable(p, now, token)]
        claimed = [Claimed(p.pk, submission.pk, submission.photo, p.model_version) for p in group]
        for mv in {p.model_version for p in group}:
            batch = settings.PREDICTION_BATCH_SIZE.get(mv.family, 1)
            if batch > 1:
                others = _batch_of_others(mv, token, exclude_submission=submission.pk, limit=batch - 1)
                group += others
                claimed += [Claimed(o.pk, o.submission_id, o.submission.photo, mv) for o in others]
        if not group:
            return [], set()
        Prediction.objects.filter(pk__in=[p.pk for p in group]).update(
            status=Prediction.Status.RUNNING, started_at=now, claim_token=token, attempts=F("attempts") + 1
        )
    given_up = {p.pk for p in group if p.attempts + 1 > settings.PREDICTION_MAX_ATTEMPTS}
    return claimed, given_up


def _batch_of_others(model_version: ModelVersion, token: str, *, exclude_submission: int, limit: int):
    """Pending predictions of the same model from other submissions (and any this task
    had claimed before its worker died), oldest first, skipping rows other workers hold."""
    return list(
        Prediction.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(model_version=model_version)
        .filter(Q(status=Prediction.Status.PENDING) | Q(status=Prediction.Status.RUNNING, claim_token=token))
        .exclude(submission_id=exclude_submission)
        .select_related("submission")
        .only("pk", "attempts", "submission_id", "submission__photo")
        .order_by("created_at")[:limit]
    )


def _run(claimed: list[Claimed]):
    """Load each photo once, then run each model once over all of its photos;
    yields {prediction id: Result} for the unreadable photos, then per model."""
    from inference.services import predict_photos  # heavy imports stay in the worker

    photos = {name: _load_photo(name) for name in {c.photo for c in claimed}}
    by_model = defaultdict(list)
    for c in claimed:
        if not isinstance(photos[c.photo], str):
            by_model[c.model_version.pk].append(c)
    yield {c.pk: Result(error=photos[c.photo]) for c in claimed if isinstance(photos[c.photo], str)}
    for items in by_model.values():
        model_version = items[0].model_version
        try:
            outcomes = predict_photos(model_version=model_version, sources=[photos[c.photo] for c in items])
        except Exception as exc:
            log.exception("Predictions %s (%s) failed", [c.pk for c in items], model_version.key)
            yield {c.pk: Result(error=_user_message(exc)) for c in items}
        else:
            yield {c.pk: Result(outcome=o) for c, o in zip(items, outcomes, strict=True)}


def _load_photo(name: str):
    """The decoded, face-cropped photo, or a message saying why there is none."""
    from inference.services import load_face_photo

    if not name or not default_storage.exists(name):
        return PHOTO_GONE
    try:
        with default_storage.open(name, "rb") as fh:
            return load_face_photo(fh, name=name)
    except Exception:
        log.exception("Stored photo %s could not be read", name)
        return PHOTO_UNREADABLE


def _user_message(exc: Exception) -> str:
    from inference.predictors import ModelArtifactError

    if isinstance(exc, (ModelArtifactError, FileNotFoundError)):
        return str(exc)
    return f"This model could not process the photo ({type(exc).__name__}). The other models are unaffected."


def finish_predictions(results: dict[int, Result]) -> None:
    """Store answers and errors, one transaction per submission (in id order, so
    two workers never wait on each other in a cycle)."""
    if not results:
        return
    by_submission = defaultdict(list)
    for pk, submission_id in Prediction.objects.filter(pk__in=results).values_list("pk", "submission_id"):
        by_submission[submission_id].append(pk)
    for submission_id in sorted(by_submission):
        with transaction.atomic():
            _finish(submission_id, {pk: results[pk] for pk in by_submission[submission_id]})


def finish_prediction(*, prediction_id: int, outcome=None, error: str = "") -> str:
    finish_predictions({prediction_id: Result(outcome=outcome, error=error)})
    return Prediction.objects.filter(pk=prediction_id).values_list("status", flat=True).first() or "missing"


FINISH_FIELDS = ["status", "label", "probabilities", "face_found", "latency_ms", "error", "finished_at"]


def _finish(submission_id: int, results: dict[int, Result]) -> None:
    submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
    if submission is None:
        return  # deleted meanwhile (with its predictions)
    now, changed = timezone.now(), []
    for prediction in Prediction.objects.select_for_update().filter(pk__in=results):
        if prediction.is_final:
            continue  # a duplicate delivery finished first; keep its answer
        result = results[prediction.pk]
        if result.outcome is not None:
            prediction.status = Prediction.Status.DONE
            prediction.label = result.outcome.label
            prediction.probabilities = result.outcome.probabilities
            prediction.face_found = result.outcome.face_found
            prediction.latency_ms = result.outcome.latency_ms
            prediction.error = ""
        else:
            prediction.status = Prediction.Status.FAILED
            prediction.error = result.error[:2000]
        prediction.finished_at = now
        changed.append(prediction)
    if not changed:
        return
    Prediction.objects.bulk_update(changed, FINISH_FIELDS)
    if not submission.predictions.exclude(status__in=Prediction.FINAL).exists():
        release_photo(submission)  # deleted now, or kept for the assignment's retention period
