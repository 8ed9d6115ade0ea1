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
from dataclasses import dataclass, field
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_noop

from inference.models import ModelVersion
from inference.stored_text import declare

from ..models import Prediction, Submission
from .database_wait import retry_while_database_down
from .retention import release_photo

log = logging.getLogger(__name__)

# Answers computed are stored once the task has run this long, so a worker that dies later loses
# none of them. The MLPs' longer: their task finds the face first (30-60 ms, a few hundred under
# load), and both answers with the face's box in one transaction is the common case.
STORE_EVERY_SECONDS = {"vgg": 0.1, "mlp": 0.5}

# A prediction's error is stored in English (a worker serves no request) and translated where it
# is shown (inference.stored_text).
PHOTO_GONE = gettext_noop("The photo is no longer stored, so this model could not look at it.")
TOO_SLOW = gettext_noop(
    "The model workers were too busy to answer in time. Try submitting the photo again in a while; "
    "if it keeps happening, tell your teacher."
)
PHOTO_UNREADABLE = gettext_noop(
    "The stored photo could not be read, so no model could look at it. Try submitting the photo again."
)
GAVE_UP = declare(
    gettext_noop(
        "Gave up after %(attempts)s attempts (the worker stopped each time). "
        "Try submitting the photo again; if it keeps happening, tell your teacher."
    )
)
MODEL_FAILED = declare(
    gettext_noop("This model could not process the photo (%(error)s). The other models are unaffected.")
)


@dataclass(frozen=True)
class Claimed:
    pk: int
    submission_id: int
    photo: str
    model_version: ModelVersion
    face_box: dict | list | None = None  # where workers already found the face ({detector: box})
    explain: bool = False  # make a saliency map while the photo is here

    @classmethod
    def from_prediction(cls, prediction: Prediction, model_version: ModelVersion) -> "Claimed":
        s = prediction.submission
        explain = s.gallery_image_id is not None or s.assignment.explain_answers
        return cls(prediction.pk, prediction.submission_id, s.photo, model_version, s.face_box, explain)


@dataclass(frozen=True)
class Result:
    outcome: object = None  # inference.services.Outcome when the model answered
    error: str = ""


def run_prediction(*, prediction_id: int, claim_token: str = "", worker: str = "") -> str:
    """Run a prediction, its siblings on the same queue and (for VGG-Face) a batch
    of pending ones to a final state. Returns the named prediction's status."""
    token = claim_token or uuid.uuid4().hex
    # Every step that talks to the database waits out a database restart (services.database_wait).
    work = retry_while_database_down(_find_work, prediction_id, token)
    if work.batch_elsewhere:
        retry_while_database_down(_release_batch_members, token, keep_submission=work.submission_id)
    if not work.work:
        return work.status
    claimed, given_up = retry_while_database_down(_claim, prediction_id, token, worker)
    submission_of = {c.pk: c.submission_id for c in claimed}
    stored = finish_predictions({pk: Result(error=_give_up_message()) for pk in given_up}, submission_of)
    pending, started, found = {}, time.monotonic(), {}
    store_after = max((STORE_EVERY_SECONDS.get(c.model_version.family, 0.1) for c in claimed), default=0.1)
    try:
        for step in _run_models([c for c in claimed if c.pk not in given_up]):
            pending.update(step.results)
            for submission_id, boxes in step.faces.items():
                found.setdefault(submission_id, {}).update(boxes)
            if time.monotonic() - started > store_after:
                stored.update(finish_predictions(pending, submission_of, boxes=found))
                pending, started = {}, time.monotonic()
        stored.update(finish_predictions(pending, submission_of, boxes=found))
    except SoftTimeLimitExceeded:
        # Stop before the hard limit kills the process: what has not been answered fails with a message.
        unanswered = {c.pk: Result(error=TOO_SLOW) for c in claimed if c.pk not in stored}
        log.error("Task time limit reached; %d prediction(s) not answered", len(unanswered) - len(pending))
        stored.update(finish_predictions({**unanswered, **pending}, submission_of))
    if prediction_id in stored:
        return stored[prediction_id]
    return retry_while_database_down(_status, prediction_id)


def _status(prediction_id: int) -> str:
    return Prediction.objects.filter(pk=prediction_id).values_list("status", flat=True).first() or "missing"


@dataclass(frozen=True)
class TaskWork:
    status: str  # the named prediction's, "missing" once its submission is deleted
    submission_id: int | None
    work: bool  # something of its submission's for this task to claim
    batch_elsewhere: bool  # predictions of other submissions still running under this task's id


def _find_work(prediction_id: int, token: str) -> TaskWork:
    """What this task has to do, from one plain read: its submission's predictions on its queue,
    and anything still running under its id. In a burst most VGG-Face tasks find all of it
    already run by an earlier batch, and leave the worker to the next batch at once."""
    target = Prediction.objects.filter(pk=prediction_id)
    rows = list(
        Prediction.objects.filter(
            Q(submission_id=Subquery(target.values("submission_id")))
            | Q(status=Prediction.Status.RUNNING, claim_token=token)
        ).values("pk", "submission_id", "status", "claim_token", "started_at", "model_version__family")
    )
    named = next((r for r in rows if r["pk"] == prediction_id), None)
    submission = named["submission_id"] if named else None
    elsewhere = any(r["submission_id"] != submission and r["claim_token"] == token for r in rows)
    if named is None:  # deleted with its submission; its batch may still need sending again
        return TaskWork("missing", None, work=False, batch_elsewhere=elsewhere)
    now, family = timezone.now(), named["model_version__family"]
    own = [r for r in rows if r["submission_id"] == submission and r["model_version__family"] == family]
    work = any(_claimable(r["status"], r["claim_token"], r["started_at"], now, token) for r in own)
    return TaskWork(named["status"], submission, work=work, batch_elsewhere=elsewhere)


def _claimable(status: str, claim_token: str, started_at, now, token: str) -> bool:
    if status == Prediction.Status.PENDING:
        return True
    if status != Prediction.Status.RUNNING:
        return False
    if claim_token and claim_token == token:
        return True  # this task claimed it before and its worker died: run it now
    if started_at is None:
        return True
    # Someone else's claim: theirs until the lease runs out (their worker died without a redelivery).
    return (now - started_at).total_seconds() >= settings.PREDICTION_LEASE_SECONDS


def _give_up_message() -> str:
    return GAVE_UP % {"attempts": settings.PREDICTION_MAX_ATTEMPTS}


def _claim(prediction_id: int, token: str, worker: str = "") -> tuple[list[Claimed], set[int]]:
    """Mark the predictions this task will run as running under `token`.
    Returns them, and the ids among them that have used up their attempts.

    A prediction that was claimed before (its worker died, or its task was lost) runs with
    its own submission only: a batch that died is never run together again, so a photo that
    kills its worker is retried alone, and the others of that batch lose just that one attempt."""
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
            .select_related("model_version__label_set", "model_version__base", "submission__assignment")
        )
        if not any(p.pk == prediction_id for p in own):
            return [], set()
        group = [p for p in own if _claimable(p.status, p.claim_token, p.started_at, now, token)]
        claimed = [Claimed.from_prediction(p, p.model_version) for p in group]
        if not any(p.attempts for p in group):
            for mv in {p.model_version for p in group}:
                batch = settings.PREDICTION_BATCH_SIZE.get(mv.family, 1)
                if batch > 1:
                    others = _batch_of_others(mv, exclude_submission=own[0].submission_id, limit=batch - 1)
                    group += others
                    claimed += [Claimed.from_prediction(o, mv) for o in others]
        if not group:
            return [], set()
        Prediction.objects.filter(pk__in=[p.pk for p in group]).update(
            status=Prediction.Status.RUNNING,
            started_at=now,
            claim_token=token,
            claimed_by=worker,
            attempts=F("attempts") + 1,
        )
    given_up = {p.pk for p in group if p.attempts + 1 > settings.PREDICTION_MAX_ATTEMPTS}
    return claimed, given_up


def _batch_of_others(model_version: ModelVersion, *, exclude_submission: int, limit: int):
    """Pending predictions of the same model from other submissions that were never claimed,
    oldest first, skipping rows other workers hold."""
    return list(
        Prediction.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(model_version=model_version, status=Prediction.Status.PENDING, attempts=0)
        .exclude(submission_id=exclude_submission)
        .select_related("submission__assignment")
        .only(
            "pk",
            "attempts",
            "submission_id",
            "submission__photo",
            "submission__face_box",
            "submission__gallery_image_id",
            "submission__assignment__explain_answers",
        )
        .order_by("created_at")[:limit]
    )


def _release_batch_members(token: str, *, keep_submission: int | None) -> None:
    """A redelivered batch task: the predictions of other submissions it had claimed go back to
    pending, each with its task sent again (after commit), to run with its own submission.
    Its own transaction, holding no other lock: it may wait for another task's claim."""
    from .submissions import enqueue_prediction

    with transaction.atomic():
        held = list(
            Prediction.objects.select_for_update(of=("self",))
            .filter(status=Prediction.Status.RUNNING, claim_token=token)
            .exclude(submission_id=keep_submission)
            .select_related("model_version")
            .only("pk", "model_version__family")
        )
        if not held:
            return
        Prediction.objects.filter(pk__in=[p.pk for p in held]).update(
            status=Prediction.Status.PENDING, claim_token="", started_at=None, queued_at=timezone.now()
        )
        for p in held:
            transaction.on_commit(partial(enqueue_prediction, p.pk, p.model_version.queue))
    log.warning("Redelivered task %s: %d prediction(s) of its batch sent again on their own", token, len(held))


@dataclass(frozen=True)
class Step:
    results: dict  # {prediction id: Result}
    faces: dict = field(default_factory=dict)  # {submission id: {detector: box}} found by this step


def _run_models(claimed: list[Claimed]):
    """Load each photo once, then run each model once over all of its photos; yields a Step for
    the unreadable photos, then one per model, with the faces it found (for the other family's worker)."""
    from inference.services import predict_photos  # heavy imports stay in the worker

    boxes = {c.photo: face_boxes(c.face_box) for c in claimed}
    # The VGG-Face worker waits for a face the MLP worker is already looking for; the MLP worker,
    # whose answers come first, never waits for the VGG-Face worker.
    wait = any(c.model_version.family == ModelVersion.Family.VGG for c in claimed)
    photos = {name: _load_photo(name, box, wait) for name, box in boxes.items()}
    by_model = defaultdict(list)
    for c in claimed:
        if not isinstance(photos[c.photo], str):
            by_model[c.model_version.pk].append(c)
    yield Step({c.pk: Result(error=photos[c.photo]) for c in claimed if isinstance(photos[c.photo], str)})
    for items in by_model.values():
        model_version = items[0].model_version
        try:
            outcomes = predict_photos(
                model_version=model_version,
                sources=[photos[c.photo] for c in items],
                explain=[c.explain for c in items],
            )
        except SoftTimeLimitExceeded:
            raise  # run_prediction fails what is left
        except Exception as exc:
            log.exception("Predictions %s (%s) failed", [c.pk for c in items], model_version.key)
            results = {c.pk: Result(error=_user_message(exc)) for c in items}
        else:
            results = {c.pk: Result(outcome=o) for c, o in zip(items, outcomes, strict=True)}
        faces = {c.submission_id: {d: photos[c.photo].boxes[d] for d in photos[c.photo].found_here} for c in items}
        yield Step(results, faces)


def face_boxes(stored) -> dict:
    """A submission's face boxes by detector; a plain list is a box from before detectors were
    named: Haar's."""
    if isinstance(stored, list):
        return {"haar": stored}
    return dict(stored or {})


def _load_photo(name: str, boxes: dict | None = None, wait: bool = True):
    """The decoded, face-cropped photo, or a message saying why there is none."""
    from inference.services import load_face_photo

    if not name or not default_storage.exists(name):
        return PHOTO_GONE
    try:
        with default_storage.open(name, "rb") as fh:
            return load_face_photo(fh, name=name, boxes=boxes, share=True, wait=wait)  # a stored upload's random name
    except SoftTimeLimitExceeded:
        raise  # the task ran out of time; the photo itself may be fine
    except Exception:
        log.exception("Stored photo %s could not be read", name)
        return PHOTO_UNREADABLE


def _user_message(exc: Exception) -> str:
    from inference.predictors import ModelArtifactError

    if isinstance(exc, (ModelArtifactError, FileNotFoundError)):
        return str(exc)
    return MODEL_FAILED % {"error": type(exc).__name__}


def finish_predictions(
    results: dict[int, Result], submission_of: dict[int, int] | None = None, *, boxes: dict[int, dict] | None = None
) -> dict[int, str]:
    """Store answers and errors, one transaction per submission (in id order, so
    two workers never wait on each other in a cycle). Returns the statuses stored.
    `boxes`: {submission id: {detector: box}} found here, kept with the photo in the same
    transaction for the other model family's worker (then removed from `boxes`)."""
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
        found = (boxes or {}).pop(submission_id, None)
        # A restarting database: the answers wait in memory and are stored when it is back.
        stored.update(retry_while_database_down(_store_answers, submission_id, by_submission[submission_id], found))
    return stored


def _store_answers(submission_id: int, results: dict[int, Result], found: dict | None = None) -> dict[int, str]:
    with transaction.atomic():
        return _finish(submission_id, results, found)


def finish_prediction(*, prediction_id: int, outcome=None, error: str = "") -> str:
    finish_predictions({prediction_id: Result(outcome=outcome, error=error)})
    return Prediction.objects.filter(pk=prediction_id).values_list("status", flat=True).first() or "missing"


def _final_fields(result: Result, now) -> dict:
    if result.outcome is None:
        return {"status": Prediction.Status.FAILED, "error": result.error[:2000], "finished_at": now}
    outcome = result.outcome
    return {
        "status": Prediction.Status.DONE,
        "label": outcome.label,
        "probabilities": outcome.probabilities,
        "face_found": outcome.face_found,
        "latency_ms": outcome.latency_ms,
        "error": "",
        "finished_at": now,
        "saliency": outcome.saliency,
        "precision": outcome.precision,
    }


def _finish(submission_id: int, results: dict[int, Result], found: dict | None = None) -> dict[int, str]:
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
        release_photo(submission)  # deleted now, or kept for the assignment's retention period (boxes go with it)
    elif found and submission.photo:
        # Where the face is, per detector, beside the boxes already stored (the row is locked).
        merged = {**face_boxes(submission.face_box), **found}
        if merged != face_boxes(submission.face_box):
            Submission.objects.filter(pk=submission_id).update(face_box=merged)
    return stored
