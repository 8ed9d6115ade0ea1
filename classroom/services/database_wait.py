"""Workers wait for a restarting database instead of losing their work.

A PostgreSQL restart ends every open connection and refuses new ones for a few seconds. A worker
that has just run a model must not drop the answer for that (running the model again later
costs a VGG-Face pass and counts an attempt), nor fail a task it has not started. So each step
of a prediction task that talks to the database (a read, or one whole transaction) is tried again
while the database is unreachable, for up to DATABASE_WAIT_SECONDS; only then does the error
reach the task, which Celery sends again later (classroom.tasks).
"""

import logging
import time

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)

UNREACHABLE = (OperationalError, InterfaceError)
_sleep = time.sleep  # tests count the waits


def retry_while_database_down(step, *args, **kwargs):
    """`step(*args, **kwargs)`, tried again while the database is unreachable (never inside a
    transaction: only a whole transaction can be run again)."""
    deadline = time.monotonic() + settings.DATABASE_WAIT_SECONDS
    delay = 0.2
    while True:
        try:
            return step(*args, **kwargs)
        except UNREACHABLE as exc:
            if connection.in_atomic_block or time.monotonic() + delay > deadline:
                raise
            what = getattr(step, "__name__", "a step").strip("_").replace("_", " ")
            log.warning("Database unreachable (%s): %s again in %.1f s", str(exc).strip()[:200], what, delay)
            _drop_connection()
            _sleep(delay)
            delay = min(delay * 2, 2.0)


def _drop_connection() -> None:
    """Forget the broken connection; the next query opens a new one."""
    try:
        connection.close()
    except DatabaseError:
        pass  # closing a dead connection may fail; Django has let go of it all the same
