"""A real Celery worker process on Redis and PostgreSQL (not eager mode)."""

import time
from pathlib import Path

import pytest
from django.conf import settings

from classroom.services.submissions import submit_photo
from tests import factories
from tests.helpers import stored_uploads, synthetic_upload, wait_until_final
from tests.workers import start_worker, stop_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_assignment(demo_models):
    from classroom.services.classes import create_assignment

    classroom = factories.ClassroomFactory()
    student = factories.enrol(classroom, factories.StudentFactory())
    assignment = create_assignment(
        classroom=classroom, title="Live", instructions="", model_versions=list(demo_models), ask_expected=True
    )
    return assignment, student


def test_submitted_photo_ends_with_both_predictions_stored(celery_worker, live_assignment):
    assignment, student = live_assignment
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(1, 5), expected_label="Group B")
    wait_until_final(sub)
    preds = list(sub.predictions.select_related("model_version"))
    assert len(preds) == 2
    for p in preds:
        assert p.status == "done", p.error
        assert p.label in assignment.label_set.labels and p.attempts == 1
        assert p.latency_ms is not None and p.face_found is not None
    sub.refresh_from_db()
    assert sub.photo == "" and stored_uploads() == []


def test_duplicate_delivery_runs_once(celery_worker, live_assignment):
    """The same task sent twice (as a broker may re-deliver) leaves one finished answer."""
    from classroom.tasks import run_prediction

    assignment, student = live_assignment
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(2, 9))
    wait_until_final(sub)
    p = sub.predictions.first()
    finished = p.finished_at
    run_prediction.apply_async(args=[p.pk], queue=p.model_version.queue)
    sub2 = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(3, 1))
    wait_until_final(sub2)  # the worker has drained the queue past the duplicate
    p.refresh_from_db()
    assert p.finished_at == finished and p.attempts == 1


def test_a_starting_worker_preloads_the_models_of_open_experiments(worker_env, live_assignment):
    proc = start_worker(worker_env, "mlp", "preload")
    try:
        log = Path(settings.DATA_DIR) / "worker-preload.log"
        deadline = time.time() + 60
        while "Preloaded" not in log.read_text() and time.time() < deadline:
            time.sleep(0.2)
        assert "Preloaded 2 of 2 model(s) for mlp" in log.read_text(), log.read_text()[-3000:]
    finally:
        stop_worker(proc)
