"""A VGG-Face worker serving int8 quantises and checks its models before its pool starts
(inference.int8_prepare): a pool process that did it while starting would be killed by Celery
after CELERY_WORKER_PROC_ALIVE_TIMEOUT (minutes at full size), and start again from nothing."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from inference.precision import INT8, choose
from tests import factories
from tests.tiny_vgg import tiny_vgg_model
from tests.workers import start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SERVED = re.compile(r"tiny-vgg-worker-start.*(served in int8|fallback precision)")


def test_a_vgg_worker_serving_int8_prepares_its_models_before_its_pool_starts(worker_env):
    from classroom.services.classes import create_assignment

    if choose(INT8).precision != INT8:
        pytest.skip(f"int8 does not run here: {choose(INT8).reason}")
    vgg = tiny_vgg_model("tiny-vgg-worker-start", epochs=1)
    classroom = factories.ClassroomFactory()
    create_assignment(classroom=classroom, title="int8", instructions="", model_versions=[vgg], ask_expected=False)
    proc = start_worker({**worker_env, "ETHITECH_VGG_PRECISION": "int8"}, "vgg", "int8-start")
    path = Path(settings.DATA_DIR) / "worker-int8-start.log"
    try:  # the pool process says where it serves the model once it has loaded it
        wait_for(lambda: SERVED.search(path.read_text()), 60, "the pool process to load the model")
    finally:
        stop_worker(proc)
    log = path.read_text()
    lines = log.splitlines()
    prepared = next(i for i, line in enumerate(lines) if "Preparing 1 VGG-Face model(s) for int8" in line)
    ready = next(i for i, line in enumerate(lines) if re.search(r"@\S+ ready\.", line))
    assert prepared < ready, log[-3000:]
    # The pool process found the files and the check's result: it built nothing itself.
    assert "Quantising VGG-Face" not in log and "for int8 failed" not in log, log[-3000:]
