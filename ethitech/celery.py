"""Celery app. Workers consume per-model-family queues (mlp, vgg) so that a
slow model never holds up a fast one."""

import logging
import os

from celery import Celery
from celery.signals import celeryd_after_setup, worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ethitech.settings")

app = Celery("ethitech")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Models are loaded once per worker process, when it starts rather than on the first
# photo: the main process records the queues it consumes, its pool processes load.
_consumed_queues: set[str] = set()


@celeryd_after_setup.connect
def _remember_queues(sender, instance, **kwargs):
    _consumed_queues.update(instance.app.amqp.queues.consume_from or {})


@celeryd_after_setup.connect
def _prepare_int8(sender, instance, **kwargs):
    """Before the pool starts (classroom.services.worker_start.prepare_worker): minutes of int8
    quantising would get a starting pool process killed (CELERY_WORKER_PROC_ALIVE_TIMEOUT)."""
    from django.db import connections

    from classroom.services.worker_start import prepare_worker

    try:
        prepare_worker(set(instance.app.amqp.queues.consume_from or {}))
    except Exception:  # noqa: BLE001 - the worker still starts; its processes prepare what is missing
        logging.getLogger(__name__).exception("Preparing models before the pool started failed")
    finally:
        connections.close_all()  # the pool processes are forked from here: no shared connection


@worker_process_init.connect
def _preload_models(**kwargs):
    from django.db import connections

    from classroom.services.worker_start import warm_up_worker

    try:
        warm_up_worker(_consumed_queues)
    except Exception:  # noqa: BLE001 - a worker that cannot preload still serves (and reports) tasks
        logging.getLogger(__name__).exception("Preloading models failed")
    finally:
        connections.close_all()  # never share a connection opened here with another process


@worker_ready.connect
def _start_heartbeat(sender, **kwargs):
    """The main process says it is alive and releases dead workers' claims (classroom.services.worker_claims)."""
    from classroom.services.worker_claims import start_heartbeat

    start_heartbeat(sender.hostname)


@worker_ready.connect
def _prune_model_copies(sender, **kwargs):
    """With object storage, copies of deleted model files leave this machine too (inference.artifacts)."""
    from inference.services import start_model_copy_pruning

    start_model_copy_pruning()
