"""Fault injection: SIGKILL real worker processes in the middle of a burst.

1. The worker's child process is killed mid-task: Celery rejects the task back
   to the queue (acks_late + reject_on_worker_lost) and a new child runs it.
2. The whole worker (main process and child) is killed mid-task: the message
   stays unacknowledged in Redis until its visibility timeout (hours), so the
   prediction is stuck "running". A new worker drains the rest of the queue and,
   once the dead worker's heartbeat has been missing long enough, sends its
   claims again (classroom.services.worker_claims): the last answer must be
   stored within 60 s of the kill, with the default heartbeat settings.

Every prediction must end done exactly once: one model run completed per
prediction (the fault app journals them), one attempt more for each one killed
before its answer was stored, and every photo deleted.
"""

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from classroom.models import Prediction
from classroom.services.submissions import submit_photo
from tests import factories
from tests.helpers import media_files, synthetic_upload
from tests.workers import start_fault_worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QUEUE = "mlp"  # the demo models' queue (the fault workers')
BURST = 5  # submissions; two models each


def next_run_started_after(folder: Path, after: float) -> tuple[int, float, int]:
    """(worker pid, start time, prediction id) of a model run that began after `after`."""

    def find():
        for marker in folder.glob("running-*"):
            fields = marker.read_text().split()
            if len(fields) == 3 and float(fields[0]) > after:
                return int(marker.name.split("-")[1]), float(fields[0]), fields[1], fields[2]
        return None

    pid, started, model, photo = wait_for(find, 30, "a model run to start")
    prediction = Prediction.objects.get(model_version__key=model, submission__photo__endswith=photo)
    return pid, started, prediction.pk


def claimed_together(prediction_id: int) -> set[int]:
    """The predictions a task claimed with this one and has not stored an answer for yet."""
    token = Prediction.objects.get(pk=prediction_id).claim_token
    assert token
    return set(Prediction.objects.filter(claim_token=token, status="running").values_list("pk", flat=True))


def statuses():
    return dict(Prediction.objects.values_list("pk", "status"))


def test_sigkill_mid_burst_loses_no_prediction_and_runs_none_twice(worker_env, demo_models, quiet_queue, tmp_path):
    from classroom.services.classes import create_assignment

    classroom = factories.ClassroomFactory()
    student = factories.enrol(classroom, factories.StudentFactory())
    assignment = create_assignment(
        classroom=classroom, title="Kill", instructions="", model_versions=list(demo_models), ask_expected=False
    )
    env = {**worker_env, "ETHITECH_FAULT_DIR": str(tmp_path), "ETHITECH_FAULT_DELAY": "0.8"}
    workers = [start_fault_worker(env, "fault-1")]
    try:
        started = time.time()
        # A burst: tasks are queued as each submission commits.
        submissions = [
            submit_photo(assignment=assignment, student=student, upload=synthetic_upload(i % 5, i))
            for i in range(BURST)
        ]
        photos = {os.path.basename(s.photo) for s in submissions}
        n = len(statuses())
        assert n == 2 * BURST

        # 1. Kill the worker's child in the middle of a model run. Its task had claimed
        # the submission's other MLP prediction too; whatever was not stored yet is re-run.
        child, t1, first = next_run_started_after(tmp_path, started)
        doomed = claimed_together(first)
        os.kill(child, signal.SIGKILL)  # mid-run: the prediction is claimed, its model not finished
        kills = Counter(doomed)

        # 2. Once it has recovered and moved on, kill the whole worker mid-run.
        _, t2, _ = next_run_started_after(tmp_path, t1)
        _, t3, second = next_run_started_after(tmp_path, t2)
        stuck = claimed_together(second)
        os.killpg(workers[0].pid, signal.SIGKILL)
        killed_at = time.time()
        workers[0].wait(10)
        assert {statuses()[pk] for pk in stuck} == {"running"}
        kills.update(stuck)  # the same ones again, if their re-run was the one killed

        # 3. A replacement drains the queue; the stuck predictions' message is held by Redis, so
        # they come back only when the replacement finds the dead worker silent. No sweeper runs.
        workers.append(start_fault_worker(env, "fault-2"))
        wait_for(lambda: all(s in Prediction.FINAL for s in statuses().values()), 60, "every prediction")
        recovered = time.time() - killed_at
        print(f"whole worker killed: last answer stored {recovered:.1f} s later")
        assert recovered <= 60
    finally:
        for proc in workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(20)
    logs = "\n".join(p.read_text()[-2000:] for p in tmp_path.glob("*.log"))

    predictions = list(Prediction.objects.select_related("model_version", "submission"))
    assert len(predictions) == n
    for p in predictions:
        assert p.status == "done" and p.label, (p.pk, p.status, p.error, logs)
        assert p.attempts == 1 + kills[p.pk], (p.pk, p.attempts, kills)
    journal = (tmp_path / "journal.txt").read_text().split("\n")[:-1]
    runs = sorted(journal)
    assert len(runs) == n and len(set(runs)) == n, runs  # each model ran to completion once per photo
    assert {line.split()[1] for line in runs} == photos
    assert media_files() == []
