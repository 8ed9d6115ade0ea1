"""Hardening: API tokens end (password reset or change, logout, expiry, a teacher's revoke), and
new students' passwords are never stored in plain text, not even in the session table."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from classroom.services import accounts
from tests import factories


def token_for(client, username, password) -> str:
    response = client.post("/api/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def works(token: str) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api.get("/api/classes/").status_code


@pytest.fixture
def student_with_password(classroom):
    [credential] = accounts.add_students(classroom=classroom, rows=[accounts.RosterRow(display_name="Ada")])
    return credential


def test_a_password_reset_ends_the_students_token(client, classroom, student_with_password):
    c = student_with_password
    token = token_for(APIClient(), c.username, c.password)
    assert works(token) == 200
    from classroom.models import User

    accounts.reset_student_password(classroom=classroom, student=User.objects.get(username=c.username))
    assert works(token) == 401 and not Token.objects.filter(key=token).exists()


def test_a_password_change_and_logout_end_tokens(client, teacher):
    teacher.set_password("old-pass-123!")
    teacher.save()
    token = token_for(APIClient(), teacher.username, "old-pass-123!")
    teacher.set_password("new-pass-456!")
    teacher.save()
    assert works(token) == 401
    token = token_for(APIClient(), teacher.username, "new-pass-456!")
    client.force_login(teacher)
    client.post(reverse("logout"))
    assert works(token) == 401


def test_tokens_expire_and_a_new_one_replaces_an_expired_one(teacher, settings):
    teacher.set_password("pass-123-abc!")
    teacher.save()
    token = token_for(APIClient(), teacher.username, "pass-123-abc!")
    Token.objects.filter(key=token).update(created=timezone.now() - timedelta(hours=settings.API_TOKEN_HOURS + 1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.get("/api/classes/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    fresh = token_for(APIClient(), teacher.username, "pass-123-abc!")
    assert fresh != token and works(fresh) == 200


def test_a_teacher_ends_a_students_api_access(client, classroom, student_with_password):
    from classroom.models import User

    c = student_with_password
    token = token_for(APIClient(), c.username, c.password)
    student = User.objects.get(username=c.username)
    other_teacher = factories.TeacherFactory()
    client.force_login(other_teacher)
    assert client.post(reverse("revoke_tokens", args=[classroom.public_id, student.public_id])).status_code == 404
    assert works(token) == 200
    client.force_login(classroom.teacher)
    client.post(reverse("revoke_tokens", args=[classroom.public_id, student.public_id]))
    assert works(token) == 401


def test_new_passwords_are_shown_once_and_never_stored_in_a_session(client, classroom):
    client.force_login(classroom.teacher)
    response = client.post(reverse("add_students", args=[classroom.public_id]), {"count": 3})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    passwords = [r.password for r in response.context["rows"]]
    assert len(passwords) == 3 and all(p in response.content.decode() for p in passwords)
    stored = [s.get_decoded() for s in Session.objects.all()]
    assert stored and not any(p in str(data) for p in passwords for data in stored)
    again = client.get(reverse("credentials", args=[classroom.public_id])).content.decode()
    assert not any(p in again for p in passwords) and "shown only once" in again


@pytest.fixture
def fresh_limits():
    from django.core.cache import cache

    cache.clear()  # the limits count in the shared cache (its own Redis database)
    yield
    cache.clear()


def test_the_31st_test_in_a_minute_is_refused_on_the_page_and_the_api_counts_the_same(
    client, assignment, student, fresh_limits, settings
):
    from classroom.models import Submission
    from tests.helpers import synthetic_upload

    settings.UPLOADS_PER_MINUTE = 30
    client.force_login(student)
    url = reverse("submit", args=[assignment.public_id])
    for i in range(29):
        assert client.post(url, {"photo": synthetic_upload(i % 5)}).status_code == 302
    api = APIClient()
    api.force_authenticate(student)
    thirtieth = api.post(
        "/api/submissions/", {"assignment": str(assignment.public_id), "photo": synthetic_upload(4)}, format="multipart"
    )
    assert thirtieth.status_code == 201  # the API adds to the same count
    refused = client.post(url, {"photo": synthetic_upload(0)})
    assert refused.status_code == 400 and "in the last minute" in refused.content.decode()
    api_refused = api.post(
        "/api/submissions/", {"assignment": str(assignment.public_id), "photo": synthetic_upload(1)}, format="multipart"
    )
    assert api_refused.status_code == 429 and "in the last minute" in api_refused.json()["detail"]
    assert Submission.objects.filter(student=student).count() == 30


def test_join_codes_are_limited_per_student(client, classroom, student, fresh_limits, settings):
    settings.JOIN_ATTEMPTS_PER_MINUTE = 3
    client.force_login(student)
    for _ in range(3):
        page = client.post(reverse("join"), {"code": "WRONG1"}).content.decode()
        assert "does not match" in page
    page = client.post(reverse("join"), {"code": classroom.join_code}).content.decode()
    assert "Too many join codes" in page


def test_a_teacher_changes_their_password_and_resets_a_forgotten_one_by_email(client, teacher):
    import re

    from django.core import mail

    teacher.email = "ms.okafor@school.example"
    teacher.set_password("first-pass-123!")
    teacher.save()
    token = token_for(APIClient(), teacher.username, "first-pass-123!")
    client.force_login(teacher)
    response = client.post(
        reverse("password_change"),
        {"old_password": "first-pass-123!", "new_password1": "second-pass-456!", "new_password2": "second-pass-456!"},
    )
    assert response.status_code == 302 and works(token) == 401
    client.post(reverse("logout"))

    # Forgotten: a link by email (console or SMTP in production; Django's test outbox here).
    client.post(reverse("password_reset"), {"email": "ms.okafor@school.example"})
    assert len(mail.outbox) == 1 and teacher.username in mail.outbox[0].body
    link = re.search(r"https?://[^/\s]+(/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "third-pass-789!", "new_password2": "third-pass-789!"}
    )
    assert done.status_code == 302
    teacher.refresh_from_db()
    assert teacher.check_password("third-pass-789!")
    again = client.get(link, follow=True)
    assert not again.context["validlink"]  # a link works once


@pytest.mark.django_db
def test_invite_only_teacher_signup(client, settings):
    from classroom.models import User

    settings.TEACHER_INVITE_CODE = "school-2026"
    data = {
        "username": "newteacher",
        "email": "t@school.example",
        "password1": "a-long-pass-123!",
        "password2": "a-long-pass-123!",
    }
    refused = client.post(reverse("signup"), {**data, "invite_code": "guess"})
    assert refused.status_code == 200 and "invitation code" in refused.content.decode()
    assert not User.objects.filter(username="newteacher").exists()
    assert client.post(reverse("signup"), {**data, "invite_code": "school-2026"}).status_code == 302
    assert User.objects.get(username="newteacher").is_teacher


def test_in_a_three_student_class_students_see_no_count_that_singles_anyone_out(client, demo_models, fresh_limits):
    """Three students, one test each: the teacher sees every count; a student's page, its chart
    data and the API hold none from 1 to 4, and no trend by the minute."""
    from classroom.models import Prediction
    from classroom.services import gallery
    from classroom.services.classes import create_assignment
    from classroom.services.submissions import submit_photo
    from training.importers.synthetic import import_synthetic

    classroom = factories.ClassroomFactory()
    students = [factories.enrol(classroom, factories.StudentFactory(created_by=classroom.teacher)) for _ in range(3)]
    dataset = import_synthetic(train_per_group=2, test_per_group=2).dataset
    gallery.publish_gallery(classroom=classroom, teacher=classroom.teacher, dataset=dataset, per_group=1)
    a = create_assignment(
        classroom=classroom, title="Small", instructions="", model_versions=list(demo_models), ask_expected=False
    )
    images = list(classroom.gallery_images.order_by("label"))
    for student, image in zip(students, images, strict=False):
        sub = submit_photo(assignment=a, student=student, gallery_image=image)
        Prediction.objects.filter(submission=sub).update(status="done", label="Group A", face_found=None)

    url = reverse("results", args=[a.public_id])
    client.force_login(classroom.teacher)
    teacher_page = client.get(url).content.decode()
    assert "fewer than 5" not in teacher_page and "Trend: does the gap hold" in teacher_page
    client.force_login(students[0])
    page = client.get(url)
    html = page.content.decode()
    assert "fewer than 5" in html and "nobody's test can be picked out" in html
    # A withheld count reads as "fewer than 5", never "None", and the sentence agrees with it.
    assert ">None<" not in html and ">fewer than 5<" in html
    assert "on the fewer than 5 images whose group" in html.replace("\n", " ")
    data = page.context["data"]
    model = data["models"][0]
    assert model["done"] is None and model["trend"] == [] and data["trend"] == []
    assert all(g["total"] in (0, None) for g in model["groups"])
    assert all(n in (0, None) for row in model["confusion"] for n in row["counts"])
    assert data["first"] is None or len(data["first"]) == 10  # the day only
    api = APIClient()
    api.force_authenticate(students[0])
    body = api.get(f"/api/assignments/{a.public_id}/results/").json()
    assert body["models"][0]["done"] is None and body["small_counts_hidden_below"] == 5
    teacher_api = APIClient()
    teacher_api.force_authenticate(classroom.teacher)
    assert teacher_api.get(f"/api/assignments/{a.public_id}/results/").json()["models"][0]["done"] == 3


def test_a_rate_out_of_one_to_four_uploads_is_withheld_from_students(settings):
    from classroom.results.small_counts import for_students

    settings.STUDENT_MIN_COUNT = 5
    data = {
        "first": "2026-12-01T10:42:00",
        "trend": [{"tests": 1}],
        "models": [
            {
                "uploads_looked": 2,
                "face_not_found_rate": 0.5,
                "trend": [1],
                "confusion": [{"counts": [0, 1, 7]}],
                "groups": [{"uploads_looked": 3, "face_not_found_rate": 1.0, "total": 7, "correct": 4}],
            }
        ],
    }
    out = for_students(data)
    model = out["models"][0]
    assert model["face_not_found_rate"] is None and model["groups"][0]["face_not_found_rate"] is None
    assert model["groups"][0]["total"] == 7 and model["groups"][0]["correct"] is None
    assert model["confusion"][0]["counts"] == [0, None, 7] and out["first"] == "2026-12-01" and out["trend"] == []
