"""A worker's start: before its pool starts, int8's models prepared (VGG-Face); in each pool
process, the models open experiments use loaded, so the first photos of a lesson do not wait.
Called from the Celery signals in ethitech/celery.py."""

import logging

from inference.models import ModelVersion

log = logging.getLogger(__name__)


def prepare_worker(queues) -> bool:
    """In a worker's main process, before its pool starts: a VGG-Face worker serving int8 has the
    models open experiments use quantised and checked (inference.int8_prepare), so that no pool
    process does it while starting. Returns whether it did; a failure is logged, and the pool
    processes then try as they load, as before."""
    if ModelVersion.Family.VGG not in queues:
        return False
    from inference.precision import INT8, decision

    if decision().precision != INT8:
        return False
    from inference.int8_prepare import prepare_in_child

    from .. import selectors

    models = list(selectors.models_in_use({ModelVersion.Family.VGG}))
    log.warning("Preparing %d VGG-Face model(s) for int8 before the worker starts (minutes, once)...", len(models))
    try:
        prepare_in_child(models)
    except Exception as exc:  # noqa: BLE001 - the pool processes build what is missing themselves
        log.error("Preparing VGG-Face for int8 failed (%s); the worker's processes will try as they load", exc)
        return False
    return True


def warm_up_worker(queues) -> list[str]:
    """In a worker process that serves these queues, load the models open experiments use,
    so the first photos of a lesson are not held up by loading them."""
    from inference.registry import warm_up

    from .. import selectors

    families = {f for f in ModelVersion.Family.values if f in queues}  # each family has its own queue
    if not families:
        return []
    if ModelVersion.Family.VGG in families:
        from inference.precision import INT8, decision
        from inference.tf_runtime import import_tensorflow

        # Says in the log which precision VGG-Face runs in here, and why (before any photo). int8
        # runs in ONNX Runtime: that worker never imports TensorFlow (inference/int8.py).
        if decision().precision != INT8:
            import_tensorflow()  # before anything else imports it (inference/tf_runtime.py)
    models = list(selectors.models_in_use(families))
    loaded, problems = warm_up(models)
    for problem in problems:
        log.error("Could not preload model %s", problem)
    log.info("Preloaded %d of %d model(s) for %s", len(loaded), len(models), ", ".join(sorted(families)))
    return problems
