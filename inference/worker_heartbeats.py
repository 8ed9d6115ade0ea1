"""Which workers are alive: every worker's main process writes a heartbeat to the shared cache
(classroom.services.worker_claims starts it); a claim held by a worker without one may be taken
over (predictions there, training jobs in training.services.jobs)."""

import time

from django.conf import settings
from django.core.cache import cache


def _key(worker: str) -> str:
    return f"worker-alive:{worker}"


def heartbeat(worker: str) -> None:
    cache.set(_key(worker), time.time(), timeout=settings.WORKER_DEAD_AFTER_SECONDS)


def alive(worker: str) -> bool:
    return cache.get(_key(worker)) is not None
