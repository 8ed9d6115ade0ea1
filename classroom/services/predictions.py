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

Idempotent: a final prediction is never run again. Every change to a final
state locks the submission row first, so the "all predictions final -> release
the photo" check sees its siblings' committed results.
"""

import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q, Subquery
from django.utils import timezone

from inference.models import ModelVersion

from ..models import Prediction, Submission
from .retention import release_photo

log = logging.getLogger(__name__)

STORE_EVERY_SECONDS = 0.1

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
    token = claim_token or uuid.uuid4().hex
    settled = _settled_status(prediction_id, token)
    if settled:
        return settled
    claimed, given_up = _claim(prediction_id, token)
    submission_of = {c.pk: c.submission_id for c in claimed}
    stored = finish_predictions({pk: Result(error=_give_up_message()) for pk in given_up}, submission_of)
    pending, started = {}, time.monotonic()
    for results in _run([c for c in claimed if c.pk not in given_up]):
        pending.update(results)
        # Answers are stored once a model has run for a while, so a worker that dies later
        # loses none of them; fast models' answers (MLP) are stored together, in one go.
        if time.monotonic() - started > STORE_EVERY_SECONDS:
            stored.update(finish_predictions(pending, submission_of))
            pending, started = {}, time.monotonic()
    stored.update(finish_predictions(pending, submission_of))
    if prediction_id in stored:
        return stored[prediction_id]
    return Prediction.objects.filter(pk=prediction_id).values_list("status", flat=True).first() or "missing"


def _settled_status(prediction_id: int, token: str) -> str | None:
    """The named prediction's status when there is nothing to claim: it is final, or another
    task's batch holds it. One plain read: in a burst most VGG-Face tasks find their prediction
    already run by an earlier batch, and should leave the worker to the next batch at once."""
    row = Prediction.objects.filter(pk=prediction_id).values("status", "claim_token", "started_at").first()
    if row is None:
        return "missing"
    if row["status"] in Prediction.FINAL or not _claimable(Prediction(**row), timezone.now(), token):
        return row["status"]
    return None  # claimable: _claim checks again under a lock


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
    target = Prediction.objects.filter(pk=prediction_id)
    with transaction.atomic():
        # Only this queue's predictions of the submission are locked (each model family has its
        # own queue): the MLP and VGG-Face tasks of one photo claim side by side. A claim never
        # makes a prediction final, so it needs no lock on the submission itself.
        own = list(
            Prediction.objects.select_for_update(of=("self",))
            .filter(
                submission_id=Subquery(target.values("submission_id")),
                model_version__family=Subquery(target.values("model_version__family")),
            )
            .select_related("model_version__label_set", "submission")
        )
        if not any(p.pk == prediction_id for p in own):
            return [], set()
        group = [p for p in own if _claimable(p, now, token)]
        claimed = [Claimed(p.pk, p.submission_id, p.submission.photo, p.model_version) for p in group]
        for mv in {p.model_version for p in group}:
            batch = settings.PREDICTION_BATCH_SIZE.get(mv.family, 1)
            if batch > 1:
                others = _batch_of_others(mv, token, exclude_submission=own[0].submission_id, limit=batch - 1)
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


def finish_predictions(results: dict[int, Result], submission_of: dict[int, int] | None = None) -> dict[int, str]:
    """Store answers and errors, one transaction per submission (in id order, so
    two workers never wait on each other in a cycle). Returns the statuses stored."""
    if not results:
        return {}
    if submission_of is None or not set(results) <= set(submission_of):
        submission_of = dict(Prediction.objects.filter(pk__in=results).values_list("pk", "submission_id"))
    by_submission = defaultdict(dict)
    for pk, result in results.items():
        if pk in submission_of:
            by_submission[submission_of[pk]][pk] = result
    stored = {}
    for submission_id in sorted(by_submission):
        with transaction.atomic():
            stored.update(_finish(submission_id, by_submission[submission_id]))
    return stored


def finish_prediction(*, prediction_id: int, outcome=None, error: str = "") -> str:
    finish_predictions({prediction_id: Result(outcome=outcome, error=error)})
    return Prediction.objects.filter(pk=prediction_id).values_list("status", flat=True).first() or "missing"


def _final_fields(result: Result, now) -> dict:
    if result.outcome is None:
        return {"status": Prediction.Status.FAILED, "error": result.error[:2000], "finished_at": now}
    outcome = result.outcome
    return {
        "status": Prediction.Status.DONE, "label": outcome.label, "probabilities": outcome.probabilities,
        "face_found": outcome.face_found, "latency_ms": outcome.latency_ms, "error": "", "finished_at": now,
    }  # fmt: skip


def _finish(submission_id: int, results: dict[int, Result]) -> dict[int, str]:
    submission = (
        Submission.objects.select_for_update(of=("self",)).select_related("assignment").filter(pk=submission_id).first()
    )
    if submission is None:
        return {}  # deleted meanwhile (with its predictions)
    now, stored = timezone.now(), {}
    for pk, result in results.items():
        fields = _final_fields(result, now)
        # A duplicate delivery may have finished it first: then its answer is kept.
        if Prediction.objects.filter(pk=pk).exclude(status__in=Prediction.FINAL).update(**fields):
            stored[pk] = fields["status"]
    if stored and not submission.predictions.exclude(status__in=Prediction.FINAL).exists():
        release_photo(submission)  # deleted now, or kept for the assignment's retention period
    return stored


def warm_up_worker(queues) -> list[str]:
    """In a worker process that serves these queues, load the models open experiments use,
    so the first photos of a lesson are not held up by loading them."""
    from inference.registry import warm_up

    from .. import selectors

    families = {f for f in ModelVersion.Family.values if f in queues}  # each family has its own queue
    if not families:
        return []
    models = list(selectors.models_in_use(families))
    loaded, problems = warm_up(models)
    for problem in problems:
        log.error("Could not preload model %s", problem)
    log.info("Preloaded %d of %d model(s) for %s", len(loaded), len(models), ", ".join(sorted(families)))
    return problems
