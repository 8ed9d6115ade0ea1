"""The real Celery app, with fault injection for tests/integration/test_worker_kill.py.

Started as `celery -A tests.integration.fault_app worker`. In each worker
process every model run first writes a marker (its pid) and sleeps, so a test
can SIGKILL the process in the middle of a task; a finished model run is
appended to a journal, so the test can check that no prediction was run to
completion twice. Nothing here is imported by the application itself.
"""

import os
import time
from pathlib import Path

from celery.signals import worker_process_init

from ethitech.celery import app

__all__ = ["app"]


@worker_process_init.connect
def _slow_and_journaled_model_runs(**_):
    import inference.services as services

    folder = Path(os.environ["ETHITECH_FAULT_DIR"])
    delay = float(os.environ.get("ETHITECH_FAULT_DELAY", "1.0"))
    original = services.predict_photos

    def predict_photos(*, model_version, sources, **options):
        names = [os.path.basename(getattr(s, "name", "?")) for s in sources]
        (folder / f"running-{os.getpid()}").write_text(f"{time.time()} {model_version.key} {' '.join(names)}")
        time.sleep(delay)
        outcomes = original(model_version=model_version, sources=sources, **options)
        with open(folder / "journal.txt", "a") as journal:
            for name in names:
                journal.write(f"{model_version.key} {name}\n")
        return outcomes

    services.predict_photos = predict_photos
