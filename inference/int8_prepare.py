"""Quantising and checking VGG-Face models for int8 before a worker's pool processes start.

A pool process that loads a model whose int8 files or check are missing builds them first:
minutes at full size, once per model, and again after an upgrade that changes the format. Celery
kills a pool process that is not up within CELERY_WORKER_PROC_ALIVE_TIMEOUT, and starts another,
which starts again from nothing. So the worker's main process, before its pool starts, has a
child process (`python -m inference.int8_prepare PK...`; its memory is not the worker's) do it for
the models it will load; the pool processes then find the files and the check's result.
"""

import sys

from . import int8


def prepare_in_child(model_versions) -> None:
    """Build the int8 files of `model_versions` and check them against float32, in a child process."""
    pks = [str(mv.pk) for mv in model_versions]
    if pks:
        int8.run_child("inference.int8_prepare", pks, "Preparing VGG-Face for int8")


def prepare(pks) -> None:
    """What the child does: each model's int8 files and check (inference.int8.prepare_model); the
    pool processes log the check's result as they load."""
    from .models import ModelVersion

    for mv in ModelVersion.objects.filter(pk__in=[int(pk) for pk in pks]).select_related("base", "label_set"):
        int8.prepare_model(mv)


def main(argv: list[str]) -> int:
    def work():
        import django

        django.setup()
        prepare(argv)

    return int8.child_main(work)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
