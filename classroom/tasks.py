"""Celery adapters: ids in, services do the work, the database holds the result."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils.translation import gettext_noop

from .services import predictions, retention, sweeper
from .services.database_wait import UNREACHABLE

log = logging.getLogger(__name__)


# A hard time limit bounds every prediction task, so the sweeper's stale
# threshold and the broker's visibility timeout can both be set above it.
# The database down for longer than a task waits for it (DATABASE_WAIT_SECONDS): the task is sent
# again later, with the same id, so it re-claims what it had claimed at once.
@shared_task(
    name="classroom.run_prediction",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=settings.PREDICTION_TIME_LIMIT - 10,
    time_limit=settings.PREDICTION_TIME_LIMIT,
    autoretry_for=UNREACHABLE,
    retry_backoff=15,
    retry_backoff_max=300,
    max_retries=20,
)
def run_prediction(self, prediction_id: int) -> str:
    # The task id survives redelivery after a worker dies, so the rerun can re-claim its own work.
    return predictions.run_prediction(
        prediction_id=prediction_id, claim_token=self.request.id or "", worker=self.request.hostname or ""
    )


@shared_task(name="classroom.sweep_stale_predictions", ignore_result=True)
def sweep_stale_predictions() -> dict:
    from .services.redelivery import send_lost_tasks
    from .services.worker_claims import release_dead_claims

    released = release_dead_claims()  # the workers do these two too, every heartbeat
    lost = send_lost_tasks()
    return {**sweeper.requeue_stale_predictions(), "released": released, "resent": lost["sent"]}


@shared_task(name="classroom.purge_photos", ignore_result=True)
def purge_photos() -> dict:
    return retention.purge_photos()


@shared_task(name="classroom.clear_sessions", ignore_result=True)
def clear_sessions() -> None:
    from django.core.management import call_command

    call_command("clearsessions")


# Audits of a collection (classroom.audits.services). A killed worker's task is delivered again
# and carries on after the last saved batch; any other error ends the audit with a message.
@shared_task(
    name="classroom.prepare_audit",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=20 * 60,
    time_limit=21 * 60,
)
def prepare_audit(audit_id: int) -> None:
    from .audits import services as audits

    try:
        audits.prepare(audit_id)
    except Exception:
        log.exception("Audit %s: preparing the images failed", audit_id)
        audits.fail(
            audit_id,
            gettext_noop("The images could not be prepared. Try again, or tell the person who runs the platform."),
        )


@shared_task(
    name="classroom.answer_audit",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=30 * 60,
    time_limit=31 * 60,
)
def answer_audit(audit_id: int, family: str) -> None:
    from .audits import services as audits

    try:
        more = audits.answer_queue(audit_id, family, chunk=settings.AUDIT_IMAGES_PER_TASK.get(family))
    except Exception:
        log.exception("Audit %s: the %s models failed", audit_id, family)
        audits.fail(
            audit_id, gettext_noop("The models could not answer. Try again, or tell the person who runs the platform.")
        )
        return
    if more:  # the rest goes to the back of the queue: tests that arrived meanwhile go first
        audits.queue_answers(audit_id, family)  # the broker away: marked unsent, sent once it is back
