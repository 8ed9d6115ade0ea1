"""A dead worker's claims go back to the queue; a live one's never do."""

import pytest
from django.core.cache import cache

from classroom.models import Prediction
from classroom.services import worker_claims
from classroom.services.submissions import submit_photo
from tests.helpers import synthetic_upload


@pytest.fixture
def claimed(student, assignment, monkeypatch):
    sent = []
    monkeypatch.setattr(worker_claims, "enqueue_prediction", lambda pk, queue: sent.append((pk, queue)))
    monkeypatch.setattr(worker_claims, "_missing_since", {})
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    first, second = sub.predictions.order_by("pk")
    Prediction.objects.filter(pk=first.pk).update(status="running", claim_token="t1", claimed_by="dead@host")
    Prediction.objects.filter(pk=second.pk).update(status="running", claim_token="t2", claimed_by="live@host")
    cache.delete_many(["worker-alive:dead@host", "worker-alive:live@host"])
    worker_claims.heartbeat("live@host")
    return first, second, sent


def test_claims_of_a_worker_silent_for_long_enough_go_back_once(claimed, monkeypatch, settings):
    first, second, sent = claimed
    clock = [1000.0]
    monkeypatch.setattr(worker_claims, "_now", lambda: clock[0])
    assert worker_claims.release_dead_claims(own="me@host") == 0  # first seen missing: maybe a Redis restart
    clock[0] += settings.WORKER_HEARTBEAT_SECONDS * 1.5
    assert worker_claims.release_dead_claims(own="me@host") == 1
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, first.claim_token, first.claimed_by) == ("pending", "", "")
    assert (second.status, second.claimed_by) == ("running", "live@host")  # alive: untouched
    assert sent == [(first.pk, "mlp")]
    clock[0] += 100
    assert worker_claims.release_dead_claims(own="me@host") == 0 and len(sent) == 1


def test_a_worker_that_beats_again_is_not_dead_and_its_own_claims_are_never_released(claimed, monkeypatch, settings):
    first, _, sent = claimed
    clock = [1000.0]
    monkeypatch.setattr(worker_claims, "_now", lambda: clock[0])
    worker_claims.release_dead_claims()
    worker_claims.heartbeat("dead@host")  # it was only the cache being emptied
    clock[0] += settings.WORKER_HEARTBEAT_SECONDS * 2
    assert worker_claims.release_dead_claims() == 0
    cache.delete("worker-alive:dead@host")
    for _ in range(3):
        clock[0] += settings.WORKER_HEARTBEAT_SECONDS * 2
        assert worker_claims.release_dead_claims(own="dead@host") == 0  # a worker never releases its own
    first.refresh_from_db()
    assert first.status == "running" and sent == []
