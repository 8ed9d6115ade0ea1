"""Audits and a broker that is away or restarted: the page never fails, the audit is marked unsent
and sent once the broker answers (after a restart, again), and a second copy of a task changes
nothing. The broker is the real Redis; the workers' steps run in this process."""

import base64
import json
from pathlib import Path

import pytest
import redis
from django.conf import settings

from classroom import tasks
from classroom.audits import collection, services
from classroom.models import CollectionAudit
from classroom.services import redelivery
from ethitech.celery import app as celery_app
from tests.classroom.audits.helpers import face_png, zip_upload

pytestmark = pytest.mark.usefixtures("fresh_registry")


def queued(task: str, audit_id: int, queue: str = "mlp") -> int:
    """Messages of this task for this audit waiting in the real broker's queue."""
    broker = redis.Redis.from_url(celery_app.conf.broker_url)
    found = 0
    for raw in broker.lrange(queue, 0, -1):
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        found += message["headers"]["task"] == task and args[0] == audit_id
    return found


def stored_audit_files() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / services.AUDIT_DIR
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def restart_the_broker():
    """What a worker finds after Redis restarted: another server's run id in the marker."""
    redis.Redis.from_url(celery_app.conf.broker_url).set(redelivery.MARKER, "the run id of the stopped Redis")


def test_an_upload_audit_started_while_the_broker_is_away_is_sent_once_it_is_back(
    consented, broker_away, committed, caplog
):
    upload = zip_upload({f"p{i}.png": face_png(i % 5, i) for i in range(3)})
    audit = committed(services.create_audit, assignment=consented, user=consented.classroom.teacher, uploads=[upload])
    audit.refresh_from_db()
    assert audit.status == "running" and audit.unsent  # and no exception for the teacher's page
    assert "Could not queue classroom.prepare_audit for audit" in caplog.text
    assert services.send_unsent_audits() == 0  # still away: it stays marked
    assert CollectionAudit.objects.get(pk=audit.pk).unsent

    broker_away()  # back
    redelivery.broker_restarted()  # this server's run id is in the marker: no restart to see
    before = queued("classroom.prepare_audit", audit.pk)
    assert redelivery.send_lost_tasks()["audits"] == 1
    assert queued("classroom.prepare_audit", audit.pk) == before + 1
    assert not CollectionAudit.objects.get(pk=audit.pk).unsent
    assert redelivery.send_lost_tasks()["audits"] == 0  # sent once
    assert queued("classroom.prepare_audit", audit.pk) == before + 1

    restart_the_broker()  # an empty Redis lost the task: it is sent again
    assert redelivery.send_lost_tasks()["audits"] == 1
    assert queued("classroom.prepare_audit", audit.pk) == before + 2

    committed(services.cancel_audit, audit=audit, user=consented.classroom.teacher)
    CollectionAudit.objects.filter(pk=audit.pk).update(unsent=True)
    restart_the_broker()
    assert redelivery.send_lost_tasks()["audits"] == 0  # a finished audit needs nothing
    assert not CollectionAudit.objects.get(pk=audit.pk).unsent
    assert queued("classroom.prepare_audit", audit.pk) == before + 2


def test_a_gallery_audit_and_a_continuation_the_broker_never_got_are_sent_once_it_is_back(
    with_gallery, broker_away, committed, settings, monkeypatch
):
    teacher = with_gallery.classroom.teacher
    audit = committed(services.create_audit, assignment=with_gallery, user=teacher, gallery_counts={"Group A": 3})
    audit.refresh_from_db()
    assert audit.status == "running" and audit.unsent

    # The first task answers 2 images; queueing the rest fails: no error, the audit is marked.
    CollectionAudit.objects.filter(pk=audit.pk).update(unsent=False)
    settings.AUDIT_IMAGES_PER_TASK = {"mlp": 2}
    monkeypatch.setitem(services.BATCH, "mlp", 2)
    committed(tasks.answer_audit, audit.pk, "mlp")
    audit.refresh_from_db()
    assert audit.status == "running" and audit.unsent and audit.error == ""
    assert [r.done for r in audit.runs.all()] == [2, 2]

    broker_away()  # back
    redelivery.broker_restarted()
    before = queued("classroom.answer_audit", audit.pk)
    assert redelivery.send_lost_tasks()["audits"] == 1
    assert redelivery.send_lost_tasks()["audits"] == 0
    assert queued("classroom.answer_audit", audit.pk) == before + 1  # its unfinished family, once

    committed(tasks.answer_audit, audit.pk, "mlp")  # the task sent again finishes it
    audit.refresh_from_db()
    assert audit.status == "done" and [r.done for r in audit.runs.all()] == [3, 3]
    restart_the_broker()
    assert redelivery.send_lost_tasks()["audits"] == 0
    assert queued("classroom.answer_audit", audit.pk) == before + 1


def test_two_copies_of_an_answer_task_side_by_side_store_each_answer_once(with_gallery, committed, monkeypatch):
    from inference import services as inference

    teacher = with_gallery.classroom.teacher
    audit = services.create_audit(assignment=with_gallery, user=teacher, gallery_counts={"Group A": 5})
    monkeypatch.setitem(services.BATCH, "mlp", 2)
    real, calls = inference.predict_photos, []

    def predict(**kwargs):
        calls.append(1)
        if len(calls) == 1:  # the first copy is half-way through its first batch: the second runs all
            committed(services.answer_queue, audit.pk, "mlp")
        return real(**kwargs)

    monkeypatch.setattr(inference, "predict_photos", predict)
    committed(services.answer_queue, audit.pk, "mlp")
    audit.refresh_from_db()
    assert audit.status == "done"
    for run in audit.runs.all():
        assert run.status == "done" and run.done == 5 and run.estimates["n"] == 5
    monkeypatch.setattr(inference, "predict_photos", real)
    services.answer_queue(audit.pk, "mlp")  # a copy after the end does nothing
    assert [r.done for r in audit.runs.all()] == [5, 5]


@pytest.mark.parametrize("when", ["before the first read its uploads", "after the first cleaned them"])
def test_two_copies_of_prepare_side_by_side_keep_one_set_of_copies(consented, monkeypatch, when):
    upload = zip_upload({f"p{i}.png": face_png(i % 5, i) for i in range(4)})
    audit = services.create_audit(assignment=consented, user=consented.classroom.teacher, uploads=[upload])
    real = collection.clean_entries
    calls = []

    def clean(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            return real(*args, **kwargs)
        if when.startswith("before"):
            services.prepare(audit.pk)  # the second copy prepares it, then deletes the uploads
            return real(*args, **kwargs)
        cleaned = real(*args, **kwargs)
        services.prepare(audit.pk)
        return cleaned

    monkeypatch.setattr(collection, "clean_entries", clean)
    services.prepare(audit.pk)  # no error: the other copy's work counts
    audit.refresh_from_db()
    assert audit.status == "running" and audit.incoming == [] and audit.image_count == 4
    assert audit.prepared == 4 and len(audit.files) == 4
    assert [p.name for p in stored_audit_files()] == sorted(Path(name).name for name in audit.files)
