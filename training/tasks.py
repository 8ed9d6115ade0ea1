"""Celery adapters for training jobs: `training` queue (CPU) and `gpu` queue (fine-tune)."""

from celery import shared_task

from .services import jobs


@shared_task(name="training.run_job", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_training_job(self, job_id: int) -> str:
    # The task id survives redelivery after a worker dies, so the rerun carries on its own run.
    request = self.request
    job = jobs.run_job(job_id, when_busy=_later, claim_token=request.id or "", worker=request.hostname or "")
    return job.status if job else "missing"


def _later(job) -> None:
    """Its class has enough lab jobs running: back on the queue for a couple of seconds."""
    run_training_job.apply_async(args=[job.pk], queue=jobs.QUEUES[job.kind], countdown=2)


@shared_task(name="training.prepare_lab_pool", ignore_result=True)
def prepare_lab_pool(dataset_key: str) -> dict:
    """Preprocess a dataset's lab pool before the lesson, so students' first fits are quick."""
    from .models import Dataset
    from .services.lab import prepare_pool

    dataset = Dataset.objects.select_related("label_set").filter(key=dataset_key).first()
    return prepare_pool(dataset) if dataset else {}
