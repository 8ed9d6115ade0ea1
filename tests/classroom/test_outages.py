"""The database or Redis away for a moment: plain 503 "try again" answers, limits that let requests
through, workers that wait, and tasks sent again once the broker is back. The real restarts, with
real servers stopped and started, are in tests/integration/test_restarts.py."""

import pytest
import redis
from django.db import OperationalError, transaction
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient

from classroom import selectors
from classroom.models import Prediction
from classroom.services import database_wait, rate_limits, redelivery
from classroom.services.submissions import enqueue_prediction, submit_photo
from classroom.views.errors import server_error
from ethitech.celery import app as celery_app
from tests.helpers import synthetic_upload

UNREACHABLE_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


@pytest.fixture
def database_away(monkeypatch):
    """Every experiment lookup fails as it does while PostgreSQL restarts."""

    def refused(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    monkeypatch.setattr(selectors, "assignment_for", refused)


def test_a_page_says_try_again_with_503_while_the_database_is_away(client, student, assignment, database_away):
    client.force_login(student)
    reply = client.get(f"/a/{assignment.public_id}/")
    assert reply.status_code == 503 and reply["Retry-After"] == "10" and reply["Cache-Control"] == "no-store"
    text = reply.content.decode()
    assert "Back in a moment" in text and "try again in a minute" in text
    assert f'href="/a/{assignment.public_id}/"' in text  # "Try again" reloads the page
    sent = client.post(f"/a/{assignment.public_id}/submit/", {"photo": synthetic_upload()})
    assert sent.status_code == 503 and "it was not sent" in sent.content.decode()
    assert 'href="/"' in sent.content.decode()  # after a form: home, not a GET of the form's address
    assert not Prediction.objects.exists()


def test_the_api_and_json_feeds_answer_json_503(student, assignment, database_away):
    api = APIClient()
    api.force_authenticate(student)
    reply = api.get(f"/api/assignments/{assignment.public_id}/")
    assert reply.status_code == 503 and reply["Content-Type"] == "application/json"
    assert "try again" in reply.json()["detail"]


def test_other_errors_still_give_the_500_page(client, student, assignment, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "assignment_for", broken)
    client.force_login(student)
    client.raise_request_exception = False
    assert client.get(f"/a/{assignment.public_id}/").status_code == 500


def test_the_last_resort_handler_says_try_again_only_for_an_outage():
    request = RequestFactory().get("/c/anything/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        outage = server_error(request)  # as Django calls it, while handling the exception
    try:
        raise ValueError("a bug")
    except ValueError:
        bug = server_error(request)
    assert outage.status_code == 503 and b"Back in a moment" in outage.content
    assert bug.status_code == 500


@override_settings(CACHES=UNREACHABLE_REDIS)
def test_limits_let_requests_through_while_redis_is_away(student, assignment):
    with pytest.raises(redis.ConnectionError):
        from django.core.cache import cache

        cache.get("anything")  # the cache really is unreachable
    assert all(rate_limits.hit("uploads:1", limit=1) for _ in range(3))
    api = APIClient()
    api.force_authenticate(student)
    assert api.get("/api/classes/").status_code == 200  # DRF's throttles count in the same cache


def test_a_worker_step_is_tried_again_while_the_database_is_away(monkeypatch, settings):
    waits, calls = [], []
    monkeypatch.setattr(database_wait, "_sleep", waits.append)

    def store():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("the database system is shutting down")
        return "stored"

    assert database_wait.retry_while_database_down(store) == "stored"
    assert len(calls) == 3 and waits == [0.2, 0.4]
    settings.DATABASE_WAIT_SECONDS = 0
    calls.clear()
    with pytest.raises(OperationalError):
        database_wait.retry_while_database_down(store)  # waited long enough: the task is sent again later
    assert len(calls) == 1


def test_a_step_inside_a_transaction_is_never_tried_again(db, monkeypatch):
    monkeypatch.setattr(database_wait, "_sleep", lambda s: None)
    calls = []

    def store():
        calls.append(1)
        raise OperationalError("connection lost")

    with pytest.raises(OperationalError), transaction.atomic():
        database_wait.retry_while_database_down(store)
    assert calls == [1]


def test_a_task_the_broker_never_got_is_marked_and_sent_once_it_is_back(student, assignment, broker_away):
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    first, second = sub.predictions.order_by("pk")
    assert enqueue_prediction(first.pk, "mlp") is False
    first.refresh_from_db()
    assert first.unsent and first.status == "pending"
    assert redelivery.send_unsent() == 0  # still away: it stays marked
    first.refresh_from_db()
    assert first.unsent


def test_unsent_predictions_are_sent_by_one_caller(student, assignment):
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    first, second = sub.predictions.order_by("pk")
    Prediction.objects.filter(pk=first.pk).update(unsent=True)
    Prediction.objects.filter(pk=second.pk).update(unsent=True, status="running")
    assert redelivery.send_unsent() == 1  # to the real broker
    first.refresh_from_db(), second.refresh_from_db()
    assert not first.unsent and first.queued_at is not None
    assert not second.unsent and second.status == "running"  # claimed meanwhile: not sent
    assert redelivery.send_unsent() == 0


def test_a_restarted_broker_is_noticed_once_and_its_pending_tasks_sent(student, assignment):
    broker = redis.Redis.from_url(celery_app.conf.broker_url)
    broker.set(redelivery.MARKER, "the run id of the Redis that was stopped")
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    Prediction.objects.filter(pk=sub.predictions.order_by("pk").last().pk).update(status="done", label="Group A")
    assert redelivery.send_lost_tasks() == {"marked": 1, "sent": 1, "jobs": 0, "audits": 0}
    # The same server: nothing to do.
    assert redelivery.send_lost_tasks() == {"marked": 0, "sent": 0, "jobs": 0, "audits": 0}
    broker.delete(redelivery.MARKER)  # a Redis that came back empty
    assert redelivery.broker_restarted() and not redelivery.broker_restarted()
