"""A worker on another host: it shares the database, the broker and the object storage (a real
SeaweedFS on 127.0.0.1), nothing else. The web side stores the photos in the bucket; a real
Celery worker started with its own, empty data folder (so it cannot see the web host's disk)
fetches the model files and the photos from the bucket, answers, and the photos leave the bucket
as the privacy rules say."""

import time
from pathlib import Path

import pytest

from classroom.audits import services as audits
from classroom.models import CollectionAudit
from classroom.services.classes import create_assignment
from classroom.services.submissions import submit_photo
from tests import factories
from tests.classroom.audits.helpers import collection_of, zip_upload
from tests.helpers import media_files, synthetic_upload, wait_until_final
from tests.workers import start_worker, stop_worker, worker_logs

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def wait_for_audit(audit: CollectionAudit, timeout: float = 60) -> CollectionAudit:
    deadline = time.time() + timeout
    while time.time() < deadline:
        audit.refresh_from_db()
        if audit.status != CollectionAudit.Status.RUNNING:
            return audit
        time.sleep(0.2)
    raise AssertionError(f"Audit still running after {timeout}s\n{worker_logs()}")


def test_a_worker_without_the_web_hosts_disk_answers_from_object_storage(
    object_storage, worker_env, demo_models, quiet_queue, tmp_path
):
    from inference.artifacts import publish

    # The web host's model files, copied to the bucket (as training does, and move_to_object_storage
    # for files made before the bucket was set; tests/classroom/test_object_storage.py checks both).
    models = list(demo_models)
    for mv in models:
        publish(mv.artifact_path)
    assert object_storage.keys("models/") == sorted(f"models/{m.artifact_path}" for m in models)

    classroom = factories.ClassroomFactory()
    student = factories.enrol(classroom, factories.StudentFactory())
    assignment = create_assignment(
        classroom=classroom, title="Remote", instructions="", model_versions=models, ask_expected=True
    )
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(1, 5))
    assert object_storage.keys("media/") == [f"media/{sub.photo}"]
    assert media_files() == []  # nothing on the web host's disk

    home = tmp_path / "remote-host"  # the other machine's data folder: empty
    env = {
        **worker_env,
        **object_storage.env(),
        "ETHITECH_DATA_DIR": str(home),
        "ETHITECH_MEDIA_ROOT": str(home / "media"),
        "ETHITECH_MODEL_STORE": str(home / "models"),
    }
    worker = start_worker(env, "mlp", "remote")
    try:
        wait_until_final(sub)
        predictions = list(sub.predictions.all())
        assert len(predictions) == 2
        for p in predictions:
            assert p.status == "done", p.error
            assert p.label in assignment.label_set.labels and p.face_found is not None
        sub.refresh_from_db()
        assert sub.photo == "" and object_storage.keys("media/") == []  # deleted from the bucket

        # An audit of an uploaded zip: cleaned, answered and deleted by the same worker.
        audit = audits.create_audit(
            assignment=assignment, user=classroom.teacher, uploads=[zip_upload(collection_of([2, 2, 1, 1, 0]))]
        )
        assert media_files() == []  # the zip went to the bucket (the worker may already be at it)
        audit = wait_for_audit(audit)
        assert audit.status == CollectionAudit.Status.DONE, (audit.error, worker_logs())
        assert audit.image_count == 6
        assert all(len(run.probabilities) == 6 for run in audit.runs.all())
        assert object_storage.keys("media/") == []
    finally:
        stop_worker(worker)

    # The worker fetched the model files into its own store and wrote nothing else: no photo,
    # no audit file ever touched its disk.
    assert files_under(home) == sorted(f"models/{m.artifact_path}" for m in models), worker_logs()
