"""What the training commands share: running a job here with progress bars, reading a mix."""

import json

from django.core.management.base import CommandError

from .models import TrainingJob
from .progress import tqdm_progress
from .services.jobs import run_job


def start_here_or_queue(kind: str, params: dict, stdout, *, queue: bool, what: str = "job") -> TrainingJob | None:
    """Start a job the way the page does (start_job's checks; CommandError with their message),
    then queue it, or run it here with progress bars. Returns the finished job, or None if queued."""
    from django.db import transaction

    from .composition import CompositionError
    from .services.jobs import QUEUES, start_job

    with transaction.atomic():
        try:
            job = start_job(kind=kind, params=params, enqueue=queue)
        except CompositionError as exc:
            raise CommandError(str(exc))
    if queue:
        stdout.write(f"Queued {what} {job.pk} on the `{QUEUES[kind]}` queue (start a worker with -Q {QUEUES[kind]}).")
        return None
    return run_here(job, stdout)


def run_here(job: TrainingJob, stdout) -> TrainingJob:
    """Run (or resume) a job in this process with progress bars; CommandError unless it finished."""
    progress, close = tqdm_progress()
    try:
        job = run_job(job.pk, progress=progress, echo=stdout.write)
    finally:
        close()
    if job.status != TrainingJob.Status.DONE:
        raise CommandError(f"Job {job.pk} {job.get_status_display().lower()}: {job.error or job.message}")
    return job


def mix_option(text: str, per_group: int) -> dict:
    """--mix as JSON, or a balanced mix of `per_group` per group."""
    if not text:
        return {"kind": "balanced", "per_group": per_group}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--mix is not valid JSON: {exc}")
