"""Tasks the broker never got, or lost, are sent again as soon as it answers.

Two ways a photo's task can go missing while its predictions wait in the database:

- The broker was unreachable when the task was sent (Redis restarting while a student submits):
  `submissions.enqueue_prediction` marks the prediction `unsent`.
- The broker restarted. Without its append-only file it comes back empty: every task it held is
  gone. With it, the queues survive, but a task a worker had taken and not started yet (a
  prefetched one) was dropped by the worker when the connection broke, and Redis hands it out
  again only after the visibility timeout (hours). So the broker's Redis database keeps a marker
  holding the run id of the Redis server that wrote it; the first worker to find another run id
  there (or none) marks every pending prediction unsent.

Every worker runs `send_lost_tasks` with its heartbeat (`worker_claims.start_heartbeat`, every
WORKER_HEARTBEAT_SECONDS), and celery beat's sweeper does too. Each unsent prediction is sent by
one worker only (the one whose update clears the mark). A prediction sent twice still runs once:
a task does nothing for a prediction that is final or claimed by a live task. Training jobs and
collection audits are marked and sent again the same way (send_unsent_jobs, send_unsent_audits).
"""

import logging

import redis
from django.conf import settings
from django.utils import timezone

from ..audits.services import send_unsent_audits
from ..models import Prediction
from .submissions import enqueue_prediction

log = logging.getLogger(__name__)

MARKER = "ethitech:broker-marker"
BATCH = 500  # predictions sent per call at most; the next heartbeat sends the rest

_broker: redis.Redis | None = None


def _broker_client() -> redis.Redis | None:
    global _broker
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None  # the demo's filesystem broker keeps its messages on disk
    if _broker is None:
        _broker = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    return _broker


def broker_restarted() -> bool:
    """True once after each start of the broker's Redis (and the very first time), for one caller:
    the one that swapped the new server's run id into the marker."""
    client = _broker_client()
    if client is None:
        return False
    run_id = client.info("server")["run_id"]
    return client.set(MARKER, run_id, get=True) != run_id.encode()


def mark_pending_unsent() -> int:
    return Prediction.objects.filter(status=Prediction.Status.PENDING, unsent=False).update(unsent=True)


def send_unsent(limit: int = BATCH) -> int:
    """Send the tasks of unsent pending predictions; returns how many were sent."""
    Prediction.objects.filter(unsent=True).exclude(status=Prediction.Status.PENDING).update(unsent=False)
    waiting = Prediction.objects.filter(status=Prediction.Status.PENDING, unsent=True).order_by("created_at")
    sent = 0
    for pk, queue in waiting.values_list("pk", "model_version__family")[:limit]:
        # Only the worker whose update clears the mark sends it; a failed send marks it again.
        if Prediction.objects.filter(pk=pk, unsent=True).update(unsent=False, queued_at=timezone.now()):
            sent += enqueue_prediction(pk, queue)
    return sent


def send_lost_tasks() -> dict:
    """Mark everything pending unsent if the broker restarted, then send what is unsent."""
    from training.services.jobs import send_unsent_jobs

    restarted = broker_restarted()
    marked = mark_pending_unsent() if restarted else 0
    sent = send_unsent()
    jobs = send_unsent_jobs(broker_restarted=restarted)
    audits = send_unsent_audits(broker_restarted=restarted)
    if jobs:
        log.warning("%d training job(s) the broker never got (or lost) sent again", jobs)
    if audits:
        log.warning("The tasks of %d collection audit(s) the broker never got (or lost) sent again", audits)
    if marked:
        log.warning("The broker restarted: the tasks of %d pending prediction(s) sent again", marked)
    elif sent:
        log.warning("%d prediction(s) the broker never got sent again", sent)
    return {"marked": marked, "sent": sent, "jobs": jobs, "audits": audits}
