"""Progress reporting shared by commands (tqdm) and Celery jobs (database row)."""

import time
from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext_noop

from inference.stored_text import declare

# progress(stage, fraction 0..1, eta seconds or None)
ProgressFn = Callable[[str, float, float | None], None]

# A job's stage, message and error are stored in English (a worker serves no request) and
# translated where they are shown (inference.stored_text). Fixed ones are marked with
# gettext_noop where they are written; these have values.
FINETUNE_EPOCH = declare(gettext_noop("Fine-tuning (epoch %(epoch)s of %(epochs)s)"))
CANCELLED_IN_EPOCH = declare(
    gettext_noop("Cancelled during epoch %(epoch)s; the checkpoint after epoch %(kept)s is kept.")
)


class JobCancelled(Exception):
    """The teacher cancelled the job; stop at the next safe point."""


class JobRefused(Exception):
    """The job's input is wrong (a broken CSV, a damaged weights file): its message, as it is,
    is what the job page shows."""


def tqdm_progress() -> tuple[ProgressFn, Callable[[], None]]:
    """A progress function drawing one tqdm bar per stage, and a closer."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(stage: str, fraction: float, eta: float | None) -> None:
        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()
            fmt = "{desc}: {bar} {n:.0f}% [{elapsed}<{remaining}]"
            bar = bars[stage] = tqdm(total=100, desc=stage, leave=True, bar_format=fmt)
        bar.n = round(fraction * 100, 1)
        bar.refresh()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close


def job_progress(job, min_interval: float = 1.0) -> tuple[ProgressFn, Callable[[], bool]]:
    """A progress function that updates the job row (at most once a second), and a
    should_stop() that is true once the job has been cancelled."""
    from .models import TrainingJob

    last = [0.0]

    def update(stage: str, fraction: float, eta: float | None) -> None:
        now = time.monotonic()
        if now - last[0] < min_interval and fraction < 1:
            return
        last[0] = now
        TrainingJob.objects.filter(pk=job.pk).update(stage=stage, percent=round(fraction * 100, 1), eta_seconds=eta)

    def should_stop() -> bool:
        return TrainingJob.objects.filter(pk=job.pk, status=TrainingJob.Status.CANCELLED).exists()

    return update, should_stop


def mark(job, status: str, *, claim_token: str | None = None, **fields) -> int:
    """Set the job's status (and fields); with `claim_token`, only while that run still holds
    the job (a run taken over as dead changes nothing). Returns whether the row changed."""
    from .models import TrainingJob

    if status in TrainingJob.FINAL:
        fields.setdefault("finished_at", timezone.now())
    rows = TrainingJob.objects.filter(pk=job.pk)
    if claim_token is not None:
        rows = rows.filter(claim_token=claim_token)
    return rows.update(status=status, **fields)
