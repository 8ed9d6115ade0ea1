"""Celery adapters: ids in, services do the work, the database holds the result."""

from celery import shared_task
from django.conf import settings

from .services import predictions, retention, sweeper


# A hard time limit bounds every prediction task, so the sweeper's stale
# threshold and the broker's visibility timeout can both be set above it.
@shared_task(
    name="classroom.run_prediction",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=settings.PREDICTION_TIME_LIMIT - 10,
    time_limit=settings.PREDICTION_TIME_LIMIT,
)
def run_prediction(self, prediction_id: int) -> str:
    # The task id survives redelivery after a worker dies, so the rerun can re-claim its own work.
    return predictions.run_prediction(prediction_id=prediction_id, claim_token=self.request.id or "")


@shared_task(name="classroom.sweep_stale_predictions", ignore_result=True)
def sweep_stale_predictions() -> dict:
    return sweeper.requeue_stale_predictions()


@shared_task(name="classroom.purge_photos", ignore_result=True)
def purge_photos() -> dict:
    return retention.purge_photos()


@shared_task(name="classroom.clear_sessions", ignore_result=True)
def clear_sessions() -> None:
    from django.core.management import call_command

    call_command("clearsessions")
