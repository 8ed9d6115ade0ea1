"""Audit collections from uploads: zips and loose files, what is refused, what is skipped,
and that nothing of a refused or finished collection stays in storage."""

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from classroom.audits import services
from classroom.models import CollectionAudit
from tests.classroom.audits.helpers import face_png, zip_upload

pytestmark = pytest.mark.usefixtures("fresh_registry")


def audit_files() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / services.AUDIT_DIR
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def start(assignment, *uploads):
    return services.create_audit(assignment=assignment, user=assignment.classroom.teacher, uploads=list(uploads))


def refused(assignment, upload) -> str:
    before = audit_files()
    with pytest.raises(services.AuditError) as err:
        start(assignment, upload)
    assert audit_files() == before == []
    assert not CollectionAudit.objects.exists()
    return str(err.value)


def test_a_zip_bomb_is_refused_before_anything_is_stored(consented):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("photo.png", face_png(0, 0))
        archive.writestr("big.png", b"\0" * (40 * 1024 * 1024))  # 40 MB of zeros pack into ~40 kB
    message = refused(consented, SimpleUploadedFile("bomb.zip", buf.getvalue()))
    assert "zip bomb" in message and "big.png" in message


def test_a_path_trick_is_refused(consented):
    message = refused(consented, zip_upload({"ok.png": face_png(0, 0), "../../etc/evil.png": face_png(1, 0)}))
    assert "points outside the zip" in message and "../../etc/evil.png" in message


def test_a_zip_with_one_image_too_many_is_refused(consented):
    tiny = face_png(0, 0)
    entries = {f"p{i}.png": tiny for i in range(settings.AUDIT_MAX_IMAGES + 1)}
    message = refused(consented, zip_upload(entries))
    assert f"has {settings.AUDIT_MAX_IMAGES + 1} files" in message and f"at most {settings.AUDIT_MAX_IMAGES}" in message


def test_a_damaged_zip_is_refused(consented):
    message = refused(consented, SimpleUploadedFile("photos.zip", b"PK\x03\x04 this is not really a zip"))
    assert "not a zip file we can open" in message


@override_settings(AUDIT_MAX_BYTES=50_000)
def test_a_collection_over_the_size_limit_is_refused(consented):
    message = refused(consented, zip_upload({f"p{i}.png": face_png(i % 5, i) for i in range(10)}))
    assert "at most 0 MB" in message or "at most" in message


def test_non_images_are_skipped_with_the_reason_and_every_file_goes_at_the_end(consented, committed):
    entries = {f"photos/p{i}.png": face_png(i % 5, i) for i in range(6)}
    entries["photos/notes.txt"] = b"not a photo at all"
    entries["__MACOSX/photos/._p0.png"] = b"resource fork"  # added by a Mac, never counted
    entries["photos/"] = b""
    loose = SimpleUploadedFile("extra.pdf", b"%PDF-1.4 a document")
    audit = start(consented, zip_upload(entries), loose)
    assert audit.image_count == 8 and len(audit_files()) == 2  # stored as they came
    services.prepare(audit.pk)
    audit.refresh_from_db()
    assert audit.image_count == 6 and audit.skipped_count == 2
    reasons = {s["name"]: s["reason"] for s in audit.skipped}
    assert "not a JPEG, PNG, WebP or HEIC image" in reasons["notes.txt"]
    assert "PDF document" in reasons["extra.pdf"]
    assert len(audit_files()) == 6  # the cleaned copies; the uploads as they came are gone
    for family in ("mlp", "vgg"):
        committed(services.answer_queue, audit.pk, family)
    audit.refresh_from_db()
    assert audit.status == CollectionAudit.Status.DONE
    assert audit_files() == [] and audit.files == []
    assert all(len(r.probabilities) == 6 for r in audit.runs.all())


def test_a_collection_with_no_usable_image_fails_with_a_message(consented):
    audit = start(consented, zip_upload({"a.txt": b"hello", "b.txt": b"again"}))
    services.prepare(audit.pk)
    audit.refresh_from_db()
    assert audit.status == CollectionAudit.Status.FAILED
    assert "None of the files could be used" in audit.error and audit.skipped_count == 2
    assert audit_files() == []


def test_cancelling_deletes_the_photos_and_stops_the_models(consented, committed):
    audit = start(consented, zip_upload({f"p{i}.png": face_png(i % 5, i) for i in range(4)}))
    services.prepare(audit.pk)
    assert len(audit_files()) == 4
    with pytest.raises(PermissionError):
        services.cancel_audit(audit=audit, user=consented.classroom.enrollments.first() or _student(consented))
    committed(services.cancel_audit, audit=audit, user=consented.classroom.teacher)
    audit.refresh_from_db()
    assert audit.status == CollectionAudit.Status.CANCELLED and audit_files() == []
    services.answer_queue(audit.pk, "mlp")  # a task delivered after the cancel does nothing
    assert all(r.status == "cancelled" and r.probabilities == [] for r in audit.runs.all())


def _student(assignment):
    from tests import factories

    return factories.enrol(assignment.classroom, factories.StudentFactory(created_by=assignment.classroom.teacher))


def test_photos_need_the_class_consent_and_one_running_audit_at_a_time(assignment, committed):
    classroom = assignment.classroom
    classroom.consent_confirmed_at = None
    classroom.save()
    with pytest.raises(services.AuditError, match="consent"):
        start(assignment, zip_upload({"p.png": face_png(0, 0)}))
    classroom.consent_confirmed_at = classroom.created_at
    classroom.save()
    start(assignment, zip_upload({"p.png": face_png(0, 0)}))
    with pytest.raises(services.AuditError, match="still running"):
        start(assignment, zip_upload({"p.png": face_png(0, 0)}))
    committed(services.purge, CollectionAudit.objects.get().created_at + services.STALE_AFTER * 2)
    assert CollectionAudit.objects.get().status == CollectionAudit.Status.FAILED and audit_files() == []


def test_a_students_audits_are_in_their_export_and_go_with_their_data(consented, committed):
    from classroom.services import privacy

    student = _student(consented)
    services.set_enabled(assignment=consented, enabled=True)
    audit = services.create_audit(assignment=consented, user=student, uploads=[zip_upload({"p.png": face_png(0, 0)})])
    assert len(audit_files()) == 1  # still running: its zip is stored
    teacher = consented.classroom.teacher
    export = privacy.export_student_data(classroom=consented.classroom, student=student, actor=teacher)
    assert [a["title"] for a in export["audits"]] == [audit.title]
    committed(privacy.delete_student_data, classroom=consented.classroom, student=student, actor=teacher)
    assert not CollectionAudit.objects.exists() and audit_files() == []


def test_a_task_answers_a_chunk_and_leaves_the_rest_for_its_continuation(consented, committed, monkeypatch):
    monkeypatch.setitem(services.BATCH, "mlp", 2)
    audit = start(consented, zip_upload({f"p{i}.png": face_png(i % 5, i) for i in range(5)}))
    services.prepare(audit.pk)
    assert committed(services.answer_queue, audit.pk, "mlp", chunk=2) is True
    assert [r.done for r in audit.runs.all()] == [2, 2] and len(audit_files()) == 5
    assert committed(services.answer_queue, audit.pk, "mlp", chunk=2) is True
    assert committed(services.answer_queue, audit.pk, "mlp", chunk=2) is False
    audit.refresh_from_db()
    assert audit.status == "done" and [r.done for r in audit.runs.all()] == [5, 5] and audit_files() == []
