"""The stale-prediction sweeper (the worker-kill test in tests/integration shows it end to end)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from classroom.models import Prediction
from classroom.services.submissions import submit_photo
from classroom.services.sweeper import requeue_stale_predictions, stale_predictions
from tests.helpers import media_files, synthetic_upload

pytestmark = pytest.mark.django_db

STALE = timedelta(seconds=settings.PREDICTION_STALE_SECONDS + 60)


@pytest.fixture
def predictions(student, assignment):
    submission = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    return list(submission.predictions.order_by("pk"))


def age(prediction, **fields):
    Prediction.objects.filter(pk=prediction.pk).update(**fields)


def test_settings_keep_the_sweeper_behind_every_live_task():
    assert settings.PREDICTION_STALE_SECONDS > settings.PREDICTION_TIME_LIMIT
    assert settings.PREDICTION_STALE_SECONDS > settings.PREDICTION_LEASE_SECONDS > settings.PREDICTION_TIME_LIMIT
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > settings.PREDICTION_TIME_LIMIT


def test_fresh_predictions_are_left_alone(predictions):
    assert requeue_stale_predictions() == {"requeued": 0, "given_up": 0}


def test_pending_too_long_is_requeued_once_per_threshold(predictions):
    old, fresh = predictions
    age(old, created_at=timezone.now() - STALE)
    assert list(stale_predictions()) == [old]
    assert requeue_stale_predictions() == {"requeued": 1, "given_up": 0}
    old.refresh_from_db()
    assert old.status == "pending" and old.queued_at > timezone.now() - timedelta(minutes=1)
    assert old.attempts == 0  # a re-queue is not an attempt; a claim is
    assert requeue_stale_predictions() == {"requeued": 0, "given_up": 0}  # not again until it is stale again
    assert requeue_stale_predictions(now=timezone.now() + STALE)["requeued"] == 2


def test_running_since_a_dead_claim_is_requeued(predictions):
    running, claimed_just_now = predictions
    age(running, status="running", attempts=1, started_at=timezone.now() - STALE)
    age(claimed_just_now, status="running", attempts=1, started_at=timezone.now(), created_at=timezone.now() - STALE)
    Prediction.objects.filter(pk=running.pk).update(claim_token="dead-task")
    assert requeue_stale_predictions()["requeued"] == 1
    running.refresh_from_db()
    # The dead claim is dropped, so the new task may claim it at once.
    assert running.queued_at is not None and running.status == "pending" and running.claim_token == ""
    assert running.attempts == 1
    # Its re-queueing counts as new: it is not sent again at the next sweep.
    assert requeue_stale_predictions()["requeued"] == 0


def test_final_predictions_are_never_touched(predictions):
    done, failed = predictions
    age(done, status="done", label="Group A", created_at=timezone.now() - timedelta(days=3))
    age(failed, status="failed", error="x", created_at=timezone.now() - timedelta(days=3))
    assert requeue_stale_predictions() == {"requeued": 0, "given_up": 0}


def test_unanswered_for_a_day_is_failed_with_a_message(predictions, django_capture_on_commit_callbacks):
    for p in predictions:
        age(p, created_at=timezone.now() - timedelta(seconds=settings.PREDICTION_GIVE_UP_SECONDS + 60))
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stale_predictions() == {"requeued": 0, "given_up": 2}
    for p in predictions:
        p.refresh_from_db()
        assert p.status == "failed" and "No model worker answered within 24 hours" in p.error
    assert media_files() == []  # every model has answered (with a failure): the photo goes


def test_beat_schedule_runs_the_purge_and_the_sweeper():
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"classroom.purge_photos", "classroom.sweep_stale_predictions"} <= tasks
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["options"]["queue"] == "maintenance"
