import pytest
from django.urls import reverse

from classroom.models import Submission
from classroom.services.submissions import submit_photo
from tests import factories
from tests.helpers import stored_uploads, synthetic_upload


@pytest.fixture
def other_class_setup(demo_models):
    """A second class with its own teacher, student, assignment and submission."""
    from classroom.services.classes import create_assignment

    other = factories.ClassroomFactory()
    other_student = factories.enrol(other, factories.StudentFactory(created_by=other.teacher))
    other_assignment = create_assignment(
        classroom=other, title="Other", instructions="", model_versions=list(demo_models), ask_expected=False
    )
    sub = submit_photo(assignment=other_assignment, student=other_student, upload=synthetic_upload())
    return other, other_student, other_assignment, sub


def test_student_gets_404_for_another_classes_pages(client, student, assignment, other_class_setup):
    other, _, other_assignment, other_sub = other_class_setup
    client.force_login(student)
    for url in [
        reverse("classroom", args=[other.public_id]),
        reverse("assignment", args=[other_assignment.public_id]),
        reverse("results", args=[other_assignment.public_id]),
        reverse("submission", args=[other_sub.public_id]),
        reverse("submission_status", args=[other_sub.public_id]),
    ]:
        assert client.get(url).status_code == 404, url
    # posting to another class's assignment stores nothing
    before = stored_uploads()
    response = client.post(reverse("submit", args=[other_assignment.public_id]), {"photo": synthetic_upload()})
    assert response.status_code == 404
    assert stored_uploads() == before


def test_student_gets_404_for_classmates_submission(client, classroom, student, assignment):
    classmate = factories.enrol(classroom, factories.StudentFactory(created_by=classroom.teacher))
    sub = submit_photo(assignment=assignment, student=classmate, upload=synthetic_upload())
    client.force_login(student)
    assert client.get(reverse("submission", args=[sub.public_id])).status_code == 404
    client.force_login(classmate)
    assert client.get(reverse("submission", args=[sub.public_id])).status_code == 200


def test_student_gets_404_for_teacher_pages(client, classroom, student, assignment):
    client.force_login(student)
    assert client.get(reverse("create_assignment", args=[classroom.public_id])).status_code == 404
    assert client.post(reverse("add_students", args=[classroom.public_id]), {"count": 3}).status_code == 404
    assert client.post(reverse("join_code", args=[classroom.public_id]), {"action": "rotate"}).status_code == 404
    assert client.post(reverse("reset_password", args=[classroom.public_id, student.public_id])).status_code == 404


def test_teacher_gets_404_for_another_teachers_class(client, teacher, other_class_setup):
    other, other_student, other_assignment, other_sub = other_class_setup
    client.force_login(teacher)
    for url in [
        reverse("classroom", args=[other.public_id]),
        reverse("assignment", args=[other_assignment.public_id]),
        reverse("results", args=[other_assignment.public_id]),
        reverse("submission", args=[other_sub.public_id]),
        reverse("create_assignment", args=[other.public_id]),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("reset_password", args=[other.public_id, other_student.public_id])).status_code == 404


def test_anonymous_is_sent_to_login(client, assignment):
    response = client.get(reverse("assignment", args=[assignment.public_id]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_teacher_flow_pages(client, teacher, demo_models):
    client.force_login(teacher)
    response = client.post(reverse("create_classroom"), {"name": "Year 9 Computing"})
    classroom = teacher.taught_classes.get()
    assert response.status_code == 302
    response = client.post(reverse("add_students", args=[classroom.public_id]), {"count": 3}, follow=True)
    assert response.status_code == 200
    assert response.content.count(b"cred-password") == 3
    # shown once: the next visit shows no passwords
    assert b"cred-password" not in client.get(reverse("credentials", args=[classroom.public_id])).content
    response = client.post(
        reverse("create_assignment", args=[classroom.public_id]),
        {
            "title": "Mix",
            "instructions": "Hi <script>alert(1)</script> **bold**",
            "model_versions": [m.pk for m in demo_models],
            "ask_expected": "on",
            "results_visibility": "immediate",
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "<strong>bold</strong>" in page and "<script>alert" not in page


def test_roster_upload_and_broken_roster(client, classroom):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(classroom.teacher)
    url = reverse("upload_roster", args=[classroom.public_id])
    bad = SimpleUploadedFile("r.csv", b"Ada,ada\nBob,ada\n", content_type="text/csv")
    response = client.post(url, {"roster": bad}, follow=True)
    assert b"Line 2" in response.content and classroom.enrollments.count() == 0
    good = SimpleUploadedFile("r.csv", b"display_name,username\nAda,ada-x\nBob\n", content_type="text/csv")
    response = client.post(url, {"roster": good}, follow=True)
    assert response.content.count(b"cred-password") == 2 and classroom.enrollments.count() == 2


def test_text_file_renamed_jpg_gets_form_error_and_nothing_stored(client, student, assignment):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(student)
    before = stored_uploads()
    fake = SimpleUploadedFile("holiday.jpg", b"just some text, not a photo\n" * 20, content_type="image/jpeg")
    response = client.post(reverse("submit", args=[assignment.public_id]), {"photo": fake, "note": "x"})
    assert response.status_code == 400
    assert "not a JPEG, PNG, WebP or HEIC image" in response.content.decode()
    assert stored_uploads() == before
    assert not Submission.objects.exists()


def test_student_submits_and_sees_pending_answers(client, student, assignment):
    client.force_login(student)
    response = client.post(
        reverse("submit", args=[assignment.public_id]),
        {"photo": synthetic_upload(), "expected_label": "Group B", "note": "first try"},
    )
    assert response.status_code == 302
    sub = Submission.objects.get()
    assert sub.expected_label == "Group B" and sub.predictions.count() == 2
    status = client.get(reverse("submission_status", args=[sub.public_id])).json()
    assert {p["status"] for p in status["predictions"]} == {"pending"} and not status["done"]
    page = client.get(reverse("assignment", args=[assignment.public_id])).content.decode()
    assert "first try" in page and "Use photos of public figures" in page


def test_results_visibility(client, student, assignment):
    from classroom.models import Assignment
    from classroom.services.classes import release_results

    client.force_login(student)
    url = reverse("results", args=[assignment.public_id])
    assert client.get(url).status_code == 200
    assignment.results_visibility = Assignment.ResultsVisibility.ON_RELEASE
    assignment.save()
    assert client.get(url).status_code == 404
    release_results(assignment=assignment)
    assert client.get(url).status_code == 200


def test_model_card_says_synthetic(client, student, demo_models):
    client.force_login(student)
    page = client.get(reverse("model_card", args=[demo_models[1].key])).content.decode()
    assert "Synthetic demo" in page and "Group A" in page
