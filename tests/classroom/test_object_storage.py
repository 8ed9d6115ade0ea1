"""Photos and model files in S3-compatible object storage (a real SeaweedFS on 127.0.0.1): kept
private, served only by the app's views, deleted and purged as on local disk; model files copied
to the bucket and fetched by a machine that lacks them. The round trip through a worker on
another host is tests/integration/test_remote_worker.py."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from classroom.models import Submission
from classroom.services.retention import purge_photos
from classroom.services.submissions import delete_photo, submit_photo
from tests import factories
from tests.helpers import media_files, synthetic_upload

pytestmark = pytest.mark.django_db


def test_a_photo_is_kept_private_in_the_bucket_and_served_only_by_the_app(client, object_storage, student, assignment):
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(2, 3))
    key = f"media/{sub.photo}"
    assert object_storage.keys() == [key] and media_files() == []  # in the bucket, not on this disk
    stored = object_storage.client().get_object(Bucket=object_storage.bucket, Key=key)["Body"].read()

    client.force_login(student)
    url = reverse("submission_photo", args=[sub.public_id])
    response = client.get(url)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == stored
    client.force_login(factories.enrol(assignment.classroom, factories.StudentFactory()))
    assert client.get(url).status_code == 404  # a classmate

    with pytest.raises(NotImplementedError):
        default_storage.url(sub.photo)  # no URL, not even a signed one
    with pytest.raises(ClientError) as refused:
        object_storage.client(signed=False).get_object(Bucket=object_storage.bucket, Key=key)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    delete_photo(sub)
    assert object_storage.keys() == []
    client.force_login(student)
    assert client.get(url).status_code == 404


def test_the_purge_deletes_expired_and_orphaned_photos_in_the_bucket(object_storage, student, assignment):
    now = timezone.now()
    expired = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(0, 1))
    Submission.objects.filter(pk=expired.pk).update(photo_delete_after=now - timedelta(minutes=1))
    kept = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(1, 1))
    Submission.objects.filter(pk=kept.pk).update(photo_delete_after=now + timedelta(days=1))
    strays = [default_storage.save(f"{d}/stray.jpg", ContentFile(b"x")) for d in ("uploads", "gallery", "audits")]

    # The strays are younger than the grace period: they may belong to a save in progress.
    assert purge_photos() == {"expired": 1, "forgotten": 0, "orphan_files": 0}
    assert object_storage.keys() == sorted(f"media/{name}" for name in [kept.photo, *strays])
    assert purge_photos(now=now + timedelta(hours=2)) == {"expired": 0, "forgotten": 0, "orphan_files": 3}
    assert object_storage.keys() == [f"media/{kept.photo}"]


def test_model_files_are_copied_to_the_bucket_and_fetched_where_missing(object_storage, settings, tmp_path):
    from inference import artifacts
    from inference.predictors import ModelArtifactError
    from inference.registry import verified_path

    settings.MODEL_STORE = tmp_path / "web-host"
    relative, digest = artifacts.save_artifact("mlp", "probe", ".bin", lambda path: path.write_bytes(b"weights"))
    assert object_storage.keys("models/") == [f"models/{relative}"]

    settings.MODEL_STORE = tmp_path / "other-host"  # another machine: nothing in its store yet
    path = verified_path("Probe", relative, digest)
    assert path == tmp_path / "other-host" / relative and path.read_bytes() == b"weights"
    with pytest.raises(ModelArtifactError, match="missing from the model store"):
        verified_path("Gone", "mlp/gone-000000000000.bin", digest)

    # A copy no model uses goes at the next prune, once past the grace period; the bucket's on delete.
    assert artifacts.prune_cached_copies(set()) == [] and path.exists()
    assert artifacts.prune_cached_copies({relative}, older_than=0) == [] and path.exists()
    assert artifacts.prune_cached_copies(set(), older_than=0) == [relative] and not path.exists()
    artifacts.delete_artifact(relative)
    assert object_storage.keys() == []


def test_without_object_storage_the_model_folder_is_the_store_and_is_never_pruned(settings, tmp_path):
    from inference import artifacts

    settings.MODEL_STORE = tmp_path
    relative, _ = artifacts.save_artifact("mlp", "probe", ".bin", lambda path: path.write_bytes(b"weights"))
    assert artifacts.prune_cached_copies(set(), older_than=0) == []
    assert (tmp_path / relative).read_bytes() == b"weights"


def test_check_object_storage_passes_on_a_private_unversioned_bucket(object_storage):
    out = StringIO()
    call_command("check_object_storage", stdout=out)
    assert "OK: photos: write, read, list and delete work" in out.getvalue()
    assert "OK: model files: write, read, list and delete work" in out.getvalue()
    assert "ready for photos" in out.getvalue()
    assert object_storage.keys() == []  # its probe files are gone


def test_check_object_storage_refuses_a_public_or_versioned_bucket(s3_server, settings):
    bucket = "ethitech-check-public"
    s3 = s3_server.client()
    s3.create_bucket(Bucket=bucket)
    settings.STORAGES = {**settings.STORAGES, **s3_server.storages(bucket)}
    public = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public))
    with pytest.raises(CommandError, match="Anyone can read files in bucket"):
        call_command("check_object_storage", stdout=StringIO())

    s3.delete_bucket_policy(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    with pytest.raises(CommandError, match="versioning enabled: a deleted photo would stay") as err:
        call_command("check_object_storage", stdout=StringIO())
    assert "Anyone can read" not in str(err.value)


def test_check_object_storage_without_a_bucket_says_photos_stay_on_disk():
    out = StringIO()
    call_command("check_object_storage", stdout=out)
    assert "photos stay on local disk" in out.getvalue()


def test_moving_an_installation_to_object_storage_leaves_no_photo_on_its_disk(object_storage, settings, tmp_path):
    from inference.artifacts import sha256_file
    from inference.models import BaseWeights

    settings.MEDIA_ROOT = tmp_path / "media"  # what an installation on local disk has kept
    names = ["uploads/kept.jpg", "gallery/g.jpg", "audits/incoming-1"]
    for name in names:
        (tmp_path / "media" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "media" / name).write_bytes(name.encode())
    settings.MODEL_STORE = tmp_path / "models"  # and a model file made before the bucket was set
    relative = "vggface/base-0123456789ab.h5"
    (tmp_path / "models" / "vggface").mkdir(parents=True)
    (tmp_path / "models" / relative).write_bytes(b"weights")
    digest = sha256_file(tmp_path / "models" / relative)
    BaseWeights.objects.create(key="base", name="Base", artifact_path=relative, sha256=digest, source="test")
    assert object_storage.keys() == []

    out = StringIO()
    call_command("move_to_object_storage", stdout=out)
    assert "Moved 3 photo file(s)" in out.getvalue() and "copied 1 model file(s)" in out.getvalue()
    assert object_storage.keys() == sorted([*(f"media/{n}" for n in names), f"models/{relative}"])
    body = object_storage.client().get_object(Bucket=object_storage.bucket, Key="media/gallery/g.jpg")["Body"]
    assert body.read() == b"gallery/g.jpg"
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == []  # no photo left on disk
    assert (tmp_path / "models" / relative).is_file()  # this machine's copy of the model stays

    call_command("move_to_object_storage", stdout=(again := StringIO()))  # safe to run again
    assert "Moved 0 photo file(s)" in again.getvalue() and len(object_storage.keys()) == 4


def test_moving_to_object_storage_needs_a_bucket():
    with pytest.raises(CommandError, match="Set ETHITECH_S3_BUCKET"):
        call_command("move_to_object_storage", stdout=StringIO())


def test_a_model_file_that_cannot_be_fetched_is_reported_in_words(object_storage, settings, tmp_path):
    from ethitech.object_storage import storages_config
    from inference.predictors import ModelArtifactError
    from inference.registry import verified_path

    settings.MODEL_STORE = tmp_path  # a machine with the wrong key
    wrong = storages_config(
        bucket=object_storage.bucket,
        endpoint_url=object_storage.endpoint_url,
        access_key=object_storage.access_key,
        secret_key="not-the-key",
        region="us-east-1",
    )
    settings.STORAGES = {**settings.STORAGES, **wrong}
    with pytest.raises(ModelArtifactError, match="could not be fetched from the object storage"):
        verified_path("Probe", "mlp/probe-000000000000.bin", "0" * 64)
