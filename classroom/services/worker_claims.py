"""A dead worker's claims come back within a minute.

When a whole worker dies (an out-of-memory kill of its main process is likely for a 1.4 GB
VGG-Face worker on a small school server), Redis hands its unacknowledged tasks out again only
after the visibility timeout (hours), and the predictions it had claimed stay "running". So
every worker says it is alive in the shared cache every WORKER_HEARTBEAT_SECONDS, from its main
process, and looks for claims held by workers that have been silent for
WORKER_DEAD_AFTER_SECONDS: those go back to pending and to their queue. A prediction is never
run twice: the dead worker's tasks died with it, and when Redis redelivers their messages hours
later, the predictions are final and nothing runs.
"""

import logging
import threading
import time

import redis
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from inference.worker_heartbeats import alive, heartbeat

from ..models import Prediction
from .submissions import enqueue_prediction

log = logging.getLogger(__name__)


# When this process first saw each worker's heartbeat missing. A worker counts as dead only once
# it has been seen missing for longer than a heartbeat's interval and a half: after a Redis
# restart empties the cache, a live worker has written its heartbeat again by then.
_missing_since: dict[str, float] = {}
_now = time.monotonic  # tests move this clock


def _dead(worker: str, now: float) -> bool:
    if alive(worker):
        _missing_since.pop(worker, None)
        return False
    first = _missing_since.setdefault(worker, now)
    return now - first >= settings.WORKER_HEARTBEAT_SECONDS * 1.5


def release_dead_claims(*, own: str = "") -> int:
    """Put the claims of silent workers back on their queues (predictions, and training jobs,
    which resume from their checkpoints); returns how many."""
    from training.models import TrainingJob

    holders = set()
    for model, running in ((Prediction, Prediction.Status.RUNNING), (TrainingJob, TrainingJob.Status.RUNNING)):
        holders |= set(
            model.objects.filter(status=running)
            .exclude(claimed_by="")
            .exclude(claimed_by=own)
            .values_list("claimed_by", flat=True)
            .distinct()
        )
    released = 0
    now = _now()
    for worker in sorted(w for w in holders if _dead(w, now)):
        _missing_since.pop(worker, None)
        released += _resend_jobs(worker)
        stuck = list(
            Prediction.objects.filter(status=Prediction.Status.RUNNING, claimed_by=worker).values_list(
                "pk", "model_version__family"
            )
        )
        for pk, queue in stuck:
            # Only if it is still that worker's claim: nobody answered or re-claimed it meanwhile.
            changed = Prediction.objects.filter(pk=pk, status=Prediction.Status.RUNNING, claimed_by=worker).update(
                status=Prediction.Status.PENDING, claim_token="", claimed_by="", queued_at=timezone.now()
            )
            if changed:
                enqueue_prediction(pk, queue)
                released += 1
        log.warning("Worker %s stopped sending heartbeats: %d claimed prediction(s) sent again", worker, len(stuck))
    return released


def _resend_jobs(worker: str) -> int:
    """A dead worker's running training jobs, sent again: the job stays running, with no worker, so
    the next copy of its task resumes it (training.services.jobs) and later heartbeats leave it."""
    from training.models import TrainingJob
    from training.services.jobs import send_job

    held = TrainingJob.objects.filter(status=TrainingJob.Status.RUNNING, claimed_by=worker)
    sent = 0
    for job in list(held):
        if held.filter(pk=job.pk).update(claimed_by=""):  # still that worker's: nobody took it meanwhile
            send_job(job)
            sent += 1
    if sent:
        log.warning("Worker %s stopped sending heartbeats: %d running training job(s) sent again", worker, sent)
    return sent


def start_heartbeat(worker: str) -> threading.Thread:
    """In a worker's main process, until it exits: heartbeats, dead peers' claims released, and
    tasks the broker never got (or lost in a restart) sent again (services.redelivery)."""
    from .redelivery import send_lost_tasks

    def loop():
        while True:
            try:
                close_old_connections()
                heartbeat(worker)
                release_dead_claims(own=worker)
                send_lost_tasks()
            except (DatabaseError, redis.RedisError) as exc:  # a restart under way: try again next beat
                log.warning("Worker heartbeat: %s unreachable (%s)", _which(exc), exc)
            except Exception:  # noqa: BLE001 - anything else: logged, and tried again next beat
                log.exception("Worker heartbeat failed")
            finally:
                connection.close()
            time.sleep(settings.WORKER_HEARTBEAT_SECONDS)

    thread = threading.Thread(target=loop, name="ethitech-heartbeat", daemon=True)
    thread.start()
    return thread


def _which(exc: Exception) -> str:
    return "the database" if isinstance(exc, DatabaseError) else "Redis"
