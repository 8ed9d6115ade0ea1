"""Audit pages and API: who may start and see what, a gallery collection's report beside its
real make-up, and nothing per image for students."""

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from classroom.audits import services
from classroom.models import CollectionAudit, GalleryImage
from classroom.services import gallery
from tests import factories
from tests.classroom.audits.helpers import face_png, run_workers, zip_upload

pytestmark = pytest.mark.usefixtures("fresh_registry")


@pytest.fixture(autouse=True)
def _empty_gallery_folder():
    shutil.rmtree(Path(settings.MEDIA_ROOT) / gallery.GALLERY_DIR, ignore_errors=True)
    yield
    shutil.rmtree(Path(settings.MEDIA_ROOT) / gallery.GALLERY_DIR, ignore_errors=True)


def test_a_teacher_builds_a_gallery_collection_and_sees_the_real_make_up(client, with_gallery, committed):
    teacher = with_gallery.classroom.teacher
    client.force_login(teacher)
    page = client.get(reverse("audits", args=[with_gallery.public_id]))
    assert page.status_code == 200 and b'name="count_0"' in page.content and b"6 in the gallery" in page.content
    assert b'name="source"' in page.content
    form = {
        "source": "gallery",
        "models": [m.pk for m in with_gallery.model_versions.all()],
        "count_0": 6,
        "count_1": 2,
        "count_2": 2,
        "title": "Mostly A",
    }
    response = client.post(reverse("audits", args=[with_gallery.public_id]), form)
    audit = CollectionAudit.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("audit", args=[audit.public_id])
    assert audit.image_count == 10 and audit.source == "gallery" and audit.title == "Mostly A"
    labels = sorted(GalleryImage.objects.filter(pk__in=audit.gallery_ids).values_list("label", flat=True))
    assert labels == ["Group A"] * 6 + ["Group B"] * 2 + ["Group C"] * 2
    running = client.get(reverse("audit", args=[audit.public_id]))
    assert b'id="audit-runs"' in running.content and b"Cancel the audit" in running.content
    run_workers(audit, committed)
    assert audit.status == "done"
    assert len(list((Path(settings.MEDIA_ROOT) / gallery.GALLERY_DIR).glob("*"))) == 30  # the gallery stays
    done = client.get(reverse("audit", args=[audit.public_id])).content.decode()
    assert "Really in the collection" in done and "Counting top guesses" in done and "Corrected (error table)" in done
    assert re.search(r'<td class="truth">60%</td>', done)  # 6 of 10 are Group A
    assert 'id="audit-compare"' in done and done.count('<th scope="col">Corrected</th>') == 2
    assert 'id="audit-images"' in done and "Group in the dataset" in done  # per image: the teacher, gallery only
    status = client.get(reverse("audit_status", args=[audit.public_id])).json()
    assert status["final"] and [r["done"] for r in status["runs"]] == [10, 10]


def test_students_audit_only_when_switched_on_and_never_see_single_answers(client, with_gallery, student, committed):
    teacher = with_gallery.classroom.teacher
    teachers = services.create_audit(assignment=with_gallery, user=teacher, gallery_counts={"Group A": 3})
    run_workers(teachers, committed)
    client.force_login(student)
    url = reverse("audits", args=[with_gallery.public_id])
    assert client.get(url).status_code == 404
    assert b'id="audit-invite"' not in client.get(reverse("assignment", args=[with_gallery.public_id])).content
    services.set_enabled(assignment=with_gallery, enabled=True)
    assert b'id="audit-invite"' in client.get(reverse("assignment", args=[with_gallery.public_id])).content
    page = client.get(url)
    assert page.status_code == 200 and b'name="source"' not in page.content and b'name="files"' in page.content
    assert b"Your teacher" in page.content  # the teacher's audit is listed for the class
    photos = zip_upload({f"p{i}.png": face_png(i % 5, i) for i in range(3)})
    response = client.post(url, {"models": [m.pk for m in with_gallery.model_versions.all()], "files": [photos]})
    mine = CollectionAudit.objects.get(created_by=student)
    assert response.status_code == 302 and mine.source == "upload"
    run_workers(mine, committed)
    own = client.get(reverse("audit", args=[mine.public_id])).content.decode()
    assert "Counting top guesses" in own and "Really in the collection" not in own
    theirs = client.get(reverse("audit", args=[teachers.public_id])).content.decode()
    assert "Really in the collection" in theirs
    assert 'id="audit-images"' not in theirs and 'id="audit-runs"' not in theirs
    classmate = factories.enrol(with_gallery.classroom, factories.StudentFactory(created_by=teacher))
    client.force_login(classmate)
    assert client.get(reverse("audit", args=[mine.public_id])).status_code == 404
    assert client.get(reverse("audit", args=[teachers.public_id])).status_code == 200


def test_the_api_starts_an_audit_and_reads_its_estimates(client, with_gallery, committed):
    client.force_login(with_gallery.classroom.teacher)
    body = {"assignment": str(with_gallery.public_id), "gallery_counts": {"Group A": 4, "Group B": 2}}
    created = client.post("/api/audits/", body, content_type="application/json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["status"] == "running" and data["image_count"] == 6
    assert data["true_shares"] == pytest.approx([4 / 6, 2 / 6, 0, 0, 0])
    run_workers(CollectionAudit.objects.get(), committed)
    read = client.get(f"/api/audits/{data['id']}/").json()
    assert read["status"] == "done" and len(read["runs"]) == 2
    raw = read["runs"][0]["methods"]["raw"]
    assert len(raw["share"]) == 5 and sum(raw["share"]) == pytest.approx(1, abs=1e-3)
    assert all(lo <= s <= hi for lo, s, hi in zip(raw["low"], raw["share"], raw["high"], strict=True))
    assert [a["id"] for a in client.get("/api/audits/").json()["results"]] == [data["id"]]
    upload = client.post(
        "/api/audits/", {"assignment": str(with_gallery.public_id), "files": [zip_upload({"../x.png": face_png(0, 0)})]}
    )
    assert upload.status_code == 400 and "points outside the zip" in str(upload.json())
    assert client.delete(f"/api/audits/{data['id']}/").status_code == 204
    assert not CollectionAudit.objects.exists()


def test_a_student_cannot_draw_from_the_gallery(with_gallery, student):
    services.set_enabled(assignment=with_gallery, enabled=True)
    with pytest.raises(services.AuditError, match="Only the teacher"):
        services.create_audit(assignment=with_gallery, user=student, gallery_counts={"Group A": 2})
    with pytest.raises(services.AuditError, match="has 6 images of Group A, not 7"):
        services.create_audit(
            assignment=with_gallery, user=with_gallery.classroom.teacher, gallery_counts={"Group A": 7}
        )


def test_the_lesson_with_an_audit_step_switches_student_audits_on(client, teacher, demo_models):
    from classroom.lessons import catalogue
    from classroom.lessons import services as lessons

    lesson = catalogue.get_lesson("who-is-in-the-training-data")
    assert lesson.audits and "Audit a collection" in lesson.student_steps
    classroom = factories.ClassroomFactory(teacher=teacher)
    fields = lessons.experiment_fields(lesson, teacher)
    experiment = lessons.create_experiment(classroom=classroom, lesson=lesson, **fields)
    assert experiment.audits_enabled
    blank = lessons.experiment_fields(None, teacher)
    assert blank["audits_enabled"] is False
    client.force_login(teacher)
    form = client.get(reverse("edit_assignment", args=[experiment.public_id])).content.decode()
    assert re.search(r'<input type="checkbox" name="audits_enabled"[^>]* checked', form)
    api = client.get(f"/api/assignments/{experiment.public_id}/").json()
    assert api["audits_enabled"] is True
