"""Celery adapters: ids in, services do the work, the database holds the result."""

from celery import shared_task

from .services import predictions


@shared_task(name="classroom.run_prediction", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_prediction(prediction_id: int) -> str:
    return predictions.run_prediction(prediction_id=prediction_id)
