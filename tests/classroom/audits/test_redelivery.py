"""Audits and a broker that is away or restarted: the page never fails, the audit is marked unsent
and sent once the broker answers (after a restart, again). The broker is the real Redis; the
workers' steps run in this process."""

import base64
import json
import shutil
from pathlib import Path

import pytest
import redis
from django.conf import settings

from classroom import tasks
from classroom.audits import services
from classroom.models import CollectionAudit
from classroom.services import gallery, redelivery
from ethitech.celery import app as celery_app
from tests.classroom.audits.helpers import face_png, zip_upload
from training.importers.synthetic import import_synthetic

pytestmark = pytest.mark.usefixtures("fresh_registry")


@pytest.fixture
def consented(assignment):
    classroom = assignment.classroom
    classroom.consent_confirmed_at = classroom.created_at
    classroom.save()
    return assignment


@pytest.fixture
def with_gallery(assignment):
    dataset = import_synthetic(train_per_group=2, test_per_group=6).dataset
    gallery.publish_gallery(
        classroom=assignment.classroom, teacher=assignment.classroom.teacher, dataset=dataset, per_group=6
    )
    yield assignment
    shutil.rmtree(Path(settings.MEDIA_ROOT) / gallery.GALLERY_DIR, ignore_errors=True)


def queued(task: str, audit_id: int, queue: str = "mlp") -> int:
    """Messages of this task for this audit waiting in the real broker's queue."""
    broker = redis.Redis.from_url(celery_app.conf.broker_url)
    found = 0
    for raw in broker.lrange(queue, 0, -1):
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        found += message["headers"]["task"] == task and args[0] == audit_id
    return found


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
