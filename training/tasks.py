"""Celery adapters for training jobs: `training` queue (CPU) and `gpu` queue (fine-tune)."""

from celery import shared_task

from . import jobs


@shared_task(name="training.run_job", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_training_job(job_id: int) -> str:
    return jobs.run_job(job_id).status
