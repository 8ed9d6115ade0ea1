"""What the training commands share: running a job here with progress bars, reading a mix."""

import json

from django.core.management.base import CommandError

from .jobs import run_job
from .models import TrainingJob
from .progress import tqdm_progress


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
