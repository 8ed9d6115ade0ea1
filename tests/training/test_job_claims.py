"""A training job runs once: a second copy of its task (a redelivery, a second worker) leaves a job
that a live worker is running, while a job whose worker died resumes."""

import threading

import pytest
from django.db import connection

from classroom.services.worker_claims import heartbeat
from inference.models import ModelVersion
from tests.classroom.test_training_pages import start_from_page
from training.models import TrainingJob
from training.services.jobs import run_job

pytestmark = pytest.mark.usefixtures("fresh_registry")


def _running(job, token: str, worker: str) -> TrainingJob:
    TrainingJob.objects.filter(pk=job.pk).update(status="running", claim_token=token, claimed_by=worker)
    return job


def test_a_job_a_live_worker_runs_is_left_to_it(client, teacher, dataset):
    client.force_login(teacher)
    job = _running(start_from_page(client, dataset), "task-a", "worker-a@host")
    heartbeat("worker-a@host")
    versions = ModelVersion.objects.count()
    left = run_job(job.pk, claim_token="task-b", worker="worker-b@host")  # another copy of its task
    assert (left.status, left.claim_token, left.result) == ("running", "task-a", None)
    assert ModelVersion.objects.count() == versions
    # Its own task, delivered again after its worker process died, carries on.
    done = run_job(job.pk, claim_token="task-a", worker="worker-a@host")
    assert done.status == "done" and done.result is not None
    assert ModelVersion.objects.count() == versions + 1


def test_a_job_whose_worker_died_resumes(client, teacher, dataset):
    client.force_login(teacher)
    job = _running(start_from_page(client, dataset), "task-a", "worker-gone@host")  # no heartbeat
    done = run_job(job.pk, claim_token="task-b", worker="worker-b@host")
    assert (done.status, done.claim_token, done.claimed_by) == ("done", "task-b", "worker-b@host")


def test_a_finished_run_taken_over_meanwhile_changes_nothing(client, teacher, dataset):
    from training.progress import mark

    client.force_login(teacher)
    job = _running(start_from_page(client, dataset), "task-b", "worker-b@host")  # taken over
    assert not mark(job, "failed", claim_token="task-a", error="late")  # the first run's last word
    assert TrainingJob.objects.get(pk=job.pk).status == "running"


@pytest.mark.django_db(transaction=True)
def test_two_copies_at_once_register_one_model(teacher, dataset):
    from training.services.jobs import start_job

    # Not queued: a real worker left running by an earlier test would take it from both copies here.
    params = {"mix": {"kind": "balanced", "per_group": 6}, "name": "Twice", "dataset": dataset.key, "test_per_group": 3}
    job = start_job(kind="mlp", params=params, created_by=teacher, enqueue=False)
    versions = ModelVersion.objects.count()
    barrier, results = threading.Barrier(2), {}

    def worker(name):
        heartbeat(name)
        barrier.wait()
        try:
            results[name] = run_job(job.pk, claim_token=f"task-{name}", worker=name).status
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}@host",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "done" in results.values()  # the other copy saw the first at work, or (later) its end
    assert ModelVersion.objects.count() == versions + 1
    assert TrainingJob.objects.get(pk=job.pk).status == "done"


def test_a_dead_workers_running_job_is_sent_again_once(client, teacher, dataset, monkeypatch, settings):
    from django.core.cache import cache

    from classroom.services import worker_claims
    from training.services import jobs

    client.force_login(teacher)
    job = _running(start_from_page(client, dataset), "task-a", "gone@host")
    cache.delete("worker-alive:gone@host")
    sent, clock = [], [1000.0]
    monkeypatch.setattr(jobs, "send_job", lambda j: sent.append(j.pk))
    monkeypatch.setattr(worker_claims, "_missing_since", {})
    monkeypatch.setattr(worker_claims, "_now", lambda: clock[0])
    assert worker_claims.release_dead_claims(own="me@host") == 0  # first seen missing: maybe a Redis restart
    clock[0] += settings.WORKER_HEARTBEAT_SECONDS * 1.5
    assert worker_claims.release_dead_claims(own="me@host") == 1 and sent == [job.pk]
    assert TrainingJob.objects.filter(pk=job.pk, status="running", claimed_by="").exists()
    clock[0] += 100
    assert worker_claims.release_dead_claims(own="me@host") == 0 and sent == [job.pk]
    # The task sent again resumes it.
    done = run_job(job.pk, claim_token="task-c", worker="me@host")
    assert done.status == "done" and done.result is not None


def test_a_job_started_while_the_broker_is_away_is_sent_once_it_is_back(
    teacher, dataset, django_capture_on_commit_callbacks
):
    from ethitech.celery import app as celery_app
    from training.services.jobs import send_unsent_jobs, start_job

    params = {"mix": {"kind": "balanced", "per_group": 6}, "name": "Away", "dataset": dataset.key, "test_per_group": 3}
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    celery_app._pool, celery_app.amqp._producer_pool = None, None
    try:
        with django_capture_on_commit_callbacks(execute=True):  # the page's commit: no error for the teacher
            job = start_job(kind="mlp", params=params, created_by=teacher)
        job.refresh_from_db()
        assert job.unsent and job.status == "queued"
        assert send_unsent_jobs() == 0  # still away: it stays marked
        assert TrainingJob.objects.get(pk=job.pk).unsent
    finally:
        celery_app.conf.broker_url = saved
        celery_app._pool, celery_app.amqp._producer_pool = None, None
    assert send_unsent_jobs() == 1  # to the real broker, by one caller
    assert not TrainingJob.objects.get(pk=job.pk).unsent
    assert send_unsent_jobs() == 0
    # A broker that restarted empty lost every queued job's task: each is sent again.
    assert send_unsent_jobs(broker_restarted=True) == 1
