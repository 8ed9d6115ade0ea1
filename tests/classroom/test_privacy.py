"""Privacy by default: consent before photos, photo retention and purge, a
student's data export and deletion, class deletion, the audit log, and class
views that never name a student."""

import json
import os
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from classroom.models import AuditLog, Classroom, Enrollment, Prediction, Submission, User
from classroom.services import privacy
from classroom.services.classes import create_assignment, join_classroom
from classroom.services.predictions import run_prediction
from classroom.services.retention import purge_photos
from classroom.services.submissions import SubmissionError, submit_photo
from tests import factories
from tests.helpers import media_files, synthetic_upload

pytestmark = pytest.mark.django_db


def process(submission, capture):
    with capture(execute=True):
        for p in submission.predictions.all():
            run_prediction(prediction_id=p.pk)


def actions(classroom=None):
    qs = AuditLog.objects.all() if classroom is None else AuditLog.objects.filter(classroom=classroom)
    return list(qs.order_by("created_at", "id").values_list("action", flat=True))


# --- consent -----------------------------------------------------------------


def test_students_cannot_submit_until_the_teacher_confirms_consent(client, demo_models):
    classroom = factories.ClassroomFactory(consent_confirmed_at=None)
    student = factories.enrol(classroom, factories.StudentFactory(created_by=classroom.teacher))
    assignment = create_assignment(
        classroom=classroom, title="T", instructions="", model_versions=list(demo_models), ask_expected=False
    )
    with pytest.raises(SubmissionError, match="not yet confirmed the school's consent policy"):
        submit_photo(assignment=assignment, student=student, upload=synthetic_upload())

    client.force_login(student)
    page = client.get(reverse("assignment", args=[assignment.public_id])).content.decode()
    assert 'id="consent-missing"' in page and 'id="submit-form"' not in page
    response = client.post(reverse("submit", args=[assignment.public_id]), {"photo": synthetic_upload()})
    assert response.status_code == 400 and "consent policy" in response.content.decode()
    assert not Submission.objects.exists() and media_files() == []

    client.force_login(classroom.teacher)
    assert client.post(reverse("confirm_consent", args=[classroom.public_id]), {}).status_code == 302
    classroom.refresh_from_db()
    assert not classroom.consent_confirmed  # the box must be ticked
    client.post(reverse("confirm_consent", args=[classroom.public_id]), {"confirm": "on", "policy": "Policy 4.2"})
    classroom.refresh_from_db()
    assert classroom.consent_confirmed and classroom.consent_policy == "Policy 4.2"
    assert classroom.consent_confirmed_by == classroom.teacher
    assert actions(classroom) == [AuditLog.Action.CONSENT_CONFIRMED]
    assert submit_photo(assignment=assignment, student=student, upload=synthetic_upload())


# --- keeping photos ------------------------------------------------------------


def assignment_form(demo_models, **extra):
    return {
        "title": "Keep?",
        "model_versions": [m.pk for m in demo_models],
        "results_visibility": "immediate",
        **extra,
    }


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"keep_photos": "on"}, "Say how many days"),
        ({"keep_photos": "on", "keep_photos_days": "31"}, "less than or equal to 30"),
        ({"keep_photos": "on", "keep_photos_days": "0"}, "greater than or equal to 1"),
        ({"keep_photos_days": "5"}, "Tick this box"),
    ],
)
def test_keeping_photos_needs_an_explicit_choice_of_1_to_30_days(client, classroom, demo_models, extra, error):
    client.force_login(classroom.teacher)
    response = client.post(
        reverse("create_assignment", args=[classroom.public_id]), assignment_form(demo_models, **extra)
    )
    assert response.status_code == 200 and error in response.content.decode()
    assert not classroom.assignments.exists()


def test_photos_are_not_kept_by_default_and_a_choice_is_audited(client, classroom, demo_models):
    client.force_login(classroom.teacher)
    client.post(reverse("create_assignment", args=[classroom.public_id]), assignment_form(demo_models))
    assert classroom.assignments.get().keep_photos_days is None
    client.post(
        reverse("create_assignment", args=[classroom.public_id]),
        assignment_form(demo_models, title="Kept", keep_photos="on", keep_photos_days="7"),
    )
    assert classroom.assignments.get(title="Kept").keep_photos_days == 7
    entry = AuditLog.objects.get(action=AuditLog.Action.PHOTOS_KEPT)
    assert entry.details == {"experiment": "Kept", "days": 7} and entry.actor == classroom.teacher
    with pytest.raises(ValueError, match="1 to 30 days"):
        create_assignment(
            classroom=classroom,
            title="x",
            instructions="",
            model_versions=list(demo_models),
            ask_expected=False,
            keep_photos_days=45,
        )


def test_a_processed_photo_leaves_nothing_in_storage(student, assignment, django_capture_on_commit_callbacks):
    submission = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    assert len(media_files()) == 1
    process(submission, django_capture_on_commit_callbacks)
    submission.refresh_from_db()
    assert submission.photo == "" and submission.photo_deleted_at and submission.photo_delete_after is None
    assert media_files() == []


def test_kept_photo_is_purged_when_its_time_is_up(client, student, demo_models, django_capture_on_commit_callbacks):
    classroom = student.enrolled_classes.get()
    assignment = create_assignment(
        classroom=classroom,
        title="Kept",
        instructions="",
        model_versions=list(demo_models),
        ask_expected=False,
        keep_photos_days=3,
    )
    client.force_login(student)
    page = client.get(reverse("assignment", args=[assignment.public_id])).content.decode()
    assert "keeps the photos of this experiment for 3 days" in page
    submission = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    process(submission, django_capture_on_commit_callbacks)
    submission.refresh_from_db()
    assert submission.photo and default_storage.exists(submission.photo)
    assert abs(submission.photo_delete_after - (timezone.now() + timedelta(days=3))) < timedelta(minutes=1)

    assert purge_photos(now=timezone.now() + timedelta(days=2))["expired"] == 0
    assert len(media_files()) == 1
    assert purge_photos(now=timezone.now() + timedelta(days=3, minutes=5))["expired"] == 1
    submission.refresh_from_db()
    assert submission.photo == "" and submission.photo_deleted_at
    assert media_files() == []
    assert submission.predictions.filter(status="done").count() == 2  # the answers stay


def test_purge_removes_what_a_crash_left_behind(student, assignment):
    # A submission whose answers are final but whose photo deletion never ran.
    forgotten = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    forgotten.predictions.update(status=Prediction.Status.FAILED, error="x")
    Submission.objects.filter(pk=forgotten.pk).update(created_at=timezone.now() - timedelta(hours=2))
    # A submission still waiting for its answers: its photo must stay.
    waiting = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(1))
    Submission.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(hours=2))
    # Files no submission refers to: an old one (a crash mid-save) and a fresh one (a save in progress).
    old = default_storage.save("uploads/stray-old.jpg", ContentFile(b"x"))
    past = time.time() - 2 * 3600
    os.utime(default_storage.path(old), (past, past))
    fresh = default_storage.save("uploads/stray-new.jpg", ContentFile(b"x"))
    old_gallery = default_storage.save("gallery/stray.jpg", ContentFile(b"x"))
    os.utime(default_storage.path(old_gallery), (past, past))

    counts = purge_photos()
    assert counts == {"expired": 0, "forgotten": 1, "orphan_files": 2}
    names = {p.name for p in media_files()}
    waiting.refresh_from_db()
    assert names == {os.path.basename(waiting.photo), os.path.basename(fresh)}


# --- export and deletion ---------------------------------------------------------


def test_teacher_exports_a_students_data_as_json(client, classroom, student, assignment):
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(), note="my note")
    client.force_login(classroom.teacher)
    url = reverse("export_student", args=[classroom.public_id, student.public_id])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["student"]["username"] == student.username and data["student"]["id"] == str(student.public_id)
    [exported] = data["submissions"]
    assert exported["id"] == str(sub.public_id) and exported["note"] == "my note" and exported["known_group"] == ""
    assert {p["model"] for p in exported["predictions"]} == {m.key for m in assignment.model_versions.all()}
    entry = AuditLog.objects.get(action=AuditLog.Action.STUDENT_EXPORTED)
    assert entry.subject == student.public_id and entry.details == {"submissions": 1}
    assert student.display_name not in json.dumps(list(AuditLog.objects.values()), default=str)

    other_teacher = factories.TeacherFactory()
    client.force_login(other_teacher)
    assert client.post(url).status_code == 404


def test_teacher_deletes_a_students_data(client, classroom, student, assignment, django_capture_on_commit_callbacks):
    mine = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    classmate = factories.enrol(classroom, factories.StudentFactory(created_by=classroom.teacher))
    theirs = submit_photo(assignment=assignment, student=classmate, upload=synthetic_upload(2))
    client.force_login(classroom.teacher)
    url = reverse("delete_student", args=[classroom.public_id, student.public_id])
    page = client.get(url).content.decode()
    assert "1 test(s)" in page and "cannot be undone" in page
    assert client.post(url, {}).status_code == 400  # not confirmed: nothing happens
    assert Submission.objects.filter(pk=mine.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    assert not Submission.objects.filter(pk=mine.pk).exists()
    assert not Prediction.objects.filter(submission_id=mine.pk).exists()
    assert not User.objects.filter(pk=student.pk).exists()  # created by this teacher, in no other class
    assert [p.name for p in media_files()] == [os.path.basename(theirs.photo)]
    entry = AuditLog.objects.get(action=AuditLog.Action.STUDENT_DELETED)
    assert entry.subject == student.public_id and entry.details["account_deleted"] is True


def test_deleting_a_student_shared_with_another_class_keeps_their_other_data(classroom, student, assignment):
    other = factories.ClassroomFactory()
    other_assignment = create_assignment(
        classroom=other,
        title="O",
        instructions="",
        model_versions=list(assignment.model_versions.all()),
        ask_expected=False,
    )
    join_classroom(student=student, code=other.join_code)
    submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    kept = submit_photo(assignment=other_assignment, student=student, upload=synthetic_upload(1))
    result = privacy.delete_student_data(classroom=classroom, student=student, actor=classroom.teacher)
    assert result == {"submissions": 1, "photos": 1, "lesson_answers": 0, "account_deleted": False}
    assert User.objects.filter(pk=student.pk).exists()
    assert list(Submission.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Enrollment.objects.filter(classroom=classroom, student=student).exists()
    with pytest.raises(PermissionError):
        privacy.delete_student_data(classroom=other, student=student, actor=classroom.teacher)


def test_deleting_a_class_removes_everything_in_it(
    client, classroom, student, assignment, demo_models, django_capture_on_commit_callbacks
):
    submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    gallery_copy = default_storage.save("gallery/class-copy.jpg", ContentFile(b"jpeg"))
    classroom.gallery_images.create(
        label_set=assignment.label_set, label="Group A", source="test", photo=gallery_copy, width=64, height=64
    )
    other = factories.ClassroomFactory()
    other_student = factories.enrol(other, factories.StudentFactory(created_by=other.teacher))
    other_assignment = create_assignment(
        classroom=other, title="O", instructions="", model_versions=list(demo_models), ask_expected=False
    )
    other_sub = submit_photo(assignment=other_assignment, student=other_student, upload=synthetic_upload(3))
    client.force_login(classroom.teacher)
    url = reverse("delete_classroom", args=[classroom.public_id])
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 400 and Classroom.objects.filter(pk=classroom.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"confirm": "on"}).status_code == 302

    assert not Classroom.objects.filter(pk=classroom.pk).exists()
    assert list(Submission.objects.values_list("pk", flat=True)) == [other_sub.pk]
    assert not User.objects.filter(pk=student.pk).exists()
    assert User.objects.filter(pk=other_student.pk).exists()
    assert [p.name for p in media_files()] == [os.path.basename(other_sub.photo)]
    entry = AuditLog.objects.get(action=AuditLog.Action.CLASS_DELETED)
    assert entry.classroom is None and entry.classroom_name == classroom.name
    assert entry.details["submissions"] == 1 and entry.details["students"] == 1
    assert entry.details["gallery_images"] == 1 and not default_storage.exists(gallery_copy)


def test_account_creation_and_password_reset_are_audited(client, classroom):
    client.force_login(classroom.teacher)
    client.post(reverse("add_students", args=[classroom.public_id]), {"count": 2})
    student = classroom.students.first()
    client.post(reverse("reset_password", args=[classroom.public_id, student.public_id]))
    assert actions(classroom) == [AuditLog.Action.STUDENTS_CREATED, AuditLog.Action.PASSWORD_RESET]
    page = client.get(reverse("classroom", args=[classroom.public_id])).content.decode()
    assert "Reset a student&#x27;s password" in page and "Created student accounts" in page


# --- pages ---------------------------------------------------------------------


def test_privacy_page_is_public_and_linked_from_every_page(client, student):
    page = client.get(reverse("privacy")).content.decode()
    assert "what we store, for how long, and why" in page.lower()
    for phrase in ("deleted as soon as every model", "at most 30", "audit log", "No email address"):
        assert phrase in page, phrase
    client.force_login(student)
    assert reverse("privacy") in client.get(reverse("home")).content.decode()


CLASS_WIDE_ROUTES = ["results", "results_json", "projector", "export_csv", "classroom_results"]


def test_class_wide_views_never_name_a_student(client, classroom, student, assignment):
    classmates = [factories.enrol(classroom, factories.StudentFactory()) for _ in range(2)]
    for i, s in enumerate([student, *classmates]):
        submit_photo(assignment=assignment, student=s, upload=synthetic_upload(i), expected_label="Group B", note="n")
    names = [v for s in [student, *classmates] for v in (s.display_name, s.username)]
    checked = 0
    for viewer in (classroom.teacher, student):
        client.force_login(viewer)
        for route in CLASS_WIDE_ROUTES:
            target = classroom if route == "classroom_results" else assignment
            try:
                url = reverse(route, args=[target.public_id])
            except NoReverseMatch:
                continue  # a view another part of the project has not added yet
            response = client.get(url)
            if response.status_code == 404 and viewer != classroom.teacher:
                continue  # teacher-only view
            assert response.status_code == 200, (route, response.status_code)
            body = response.content.decode()
            for name in names:
                if name == viewer.username:
                    continue  # the page header says who is logged in
                assert name not in body, (route, name)
            checked += 1
    assert checked >= 2
