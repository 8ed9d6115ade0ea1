"""Re-queue predictions whose task was lost; give up on those nobody answers.

Tasks are acknowledged late and rejected back to the queue when a worker
process dies, so a killed worker child loses nothing. The workers themselves,
every heartbeat, put a dead worker's claims back (services.worker_claims) and
send the tasks the broker never got or lost in a restart (services.redelivery).
This sweeper, run by celery beat every minute or so, is the backstop for
anything else: a message lost in a way no worker noticed (a network cut between
a worker and Redis while it held prefetched tasks, say), which Redis would hand
out again only after its visibility timeout (hours).

A prediction counts as stale when it has been pending since it was last
queued, or running since it was last claimed, for longer than
PREDICTION_STALE_SECONDS, which is longer than a task may run
(PREDICTION_TIME_LIMIT) and than a claim's lease, so a live task is never
sent twice; a stale claim goes back to pending. Re-running is safe: a final prediction is never run again, and
each claim counts an attempt, so a prediction that keeps killing its worker
ends failed after PREDICTION_MAX_ATTEMPTS instead of looping.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_noop

from inference.stored_text import declare

from ..models import Prediction
from .predictions import finish_prediction
from .submissions import enqueue_prediction

log = logging.getLogger(__name__)

OPEN = (Prediction.Status.PENDING, Prediction.Status.RUNNING)


# Stored in English, translated where it is shown (inference.stored_text): one message per
# English form, so each is recognised (a translation can say "hour" and "hours" its own way).
GAVE_UP_ONE_HOUR = declare(
    gettext_noop(
        "No model worker answered within %(hours)s hour, so this test was stopped. "
        "Try submitting the photo again; if it keeps happening, tell your teacher."
    )
)
GAVE_UP_HOURS = declare(
    gettext_noop(
        "No model worker answered within %(hours)s hours, so this test was stopped. "
        "Try submitting the photo again; if it keeps happening, tell your teacher."
    )
)


def give_up_message(seconds: int) -> str:
    hours = max(1, round(seconds / 3600))
    return (GAVE_UP_ONE_HOUR if hours == 1 else GAVE_UP_HOURS) % {"hours": hours}


def stale_predictions(*, now=None, stale_after: int | None = None):
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.PREDICTION_STALE_SECONDS if stale_after is None else stale_after)
    return (
        Prediction.objects.alias(
            last_sent=Coalesce("queued_at", "created_at"),
            # A re-queued running prediction counts from its re-queueing, not its old claim.
            last_claimed=Greatest(
                Coalesce("started_at", "created_at"), Coalesce("queued_at", "started_at", "created_at")
            ),
        )
        .filter(status__in=OPEN)
        .filter(
            Q(status=Prediction.Status.PENDING, last_sent__lt=cutoff)
            | Q(status=Prediction.Status.RUNNING, last_claimed__lt=cutoff)
        )
    )


def requeue_stale_predictions(*, now=None, stale_after: int | None = None, give_up_after: int | None = None) -> dict:
    """Send stale predictions to their queue again; fail those open for too long. Returns counts."""
    now = now or timezone.now()
    give_up_after = settings.PREDICTION_GIVE_UP_SECONDS if give_up_after is None else give_up_after
    given_up = 0
    too_old = Prediction.objects.filter(status__in=OPEN, created_at__lt=now - timedelta(seconds=give_up_after))
    for pid in too_old.values_list("pk", flat=True):
        if finish_prediction(prediction_id=pid, error=give_up_message(give_up_after)) == Prediction.Status.FAILED:
            given_up += 1

    requeued = 0
    for prediction in stale_predictions(now=now, stale_after=stale_after).select_related("model_version"):
        # Only if nobody changed it meanwhile: a worker may have just claimed or finished it.
        # A stale claim is dropped (its task is long dead: the hard time limit is shorter), so the
        # new task may claim it straight away.
        changed = Prediction.objects.filter(
            pk=prediction.pk, status=prediction.status, queued_at=prediction.queued_at, started_at=prediction.started_at
        ).update(queued_at=now, status=Prediction.Status.PENDING, claim_token="")
        if changed:
            enqueue_prediction(prediction.pk, prediction.model_version.queue)
            requeued += 1
    if requeued or given_up:
        log.warning("Sweeper re-queued %d stale prediction(s) and gave up on %d", requeued, given_up)
    return {"requeued": requeued, "given_up": given_up}
