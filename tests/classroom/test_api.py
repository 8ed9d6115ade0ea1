"""The REST API: same scoping as the pages, the same numbers, token auth, throttling, a clean schema."""

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from classroom import api
from classroom import results as res
from classroom.models import Assignment, Prediction, Submission
from classroom.serializers import ExportRowSerializer, ResultsSerializer
from classroom.services.classes import create_assignment, release_results
from classroom.services.submissions import submit_photo
from tests import factories
from tests.helpers import stored_uploads, synthetic_upload


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()  # throttle counters live in the cache
    yield
    cache.clear()


@pytest.fixture
def other(demo_models):
    """Another class: its own teacher, student, experiment and submission."""
    classroom = factories.ClassroomFactory()
    student = factories.enrol(classroom, factories.StudentFactory(created_by=classroom.teacher))
    assignment = create_assignment(
        classroom=classroom, title="Other", instructions="", model_versions=list(demo_models), ask_expected=False
    )
    sub = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    return classroom, student, assignment, sub


@pytest.fixture
def mine(classroom, student, assignment):
    """A classmate and one submission each in the same experiment."""
    classmate = factories.enrol(classroom, factories.StudentFactory(created_by=classroom.teacher))
    own = submit_photo(assignment=assignment, student=student, upload=synthetic_upload(1), expected_label="Group B")
    theirs = submit_photo(assignment=assignment, student=classmate, upload=synthetic_upload(2))
    return own, theirs, classmate


def client_for(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_anonymous_gets_401(client, assignment):
    for url in ["/api/classes/", "/api/assignments/", "/api/submissions/", "/api/predictions/"]:
        assert client.get(url).status_code == 401, url
    assert client.get(reverse("api-assignment-results", args=[assignment.public_id])).status_code == 401


def test_student_sees_only_their_classes_and_submissions(student, classroom, assignment, mine, other):
    own, theirs, _ = mine
    other_class, _, other_assignment, other_sub = other
    c = client_for(student)
    assert ids(c.get("/api/classes/")) == {str(classroom.public_id)}
    assert ids(c.get("/api/assignments/")) == {str(assignment.public_id)}
    assert ids(c.get("/api/submissions/")) == {str(own.public_id)}
    assert ids(c.get(f"/api/submissions/?assignment={other_assignment.public_id}")) == set()
    preds = c.get("/api/predictions/").json()["results"]
    assert {p["submission"] for p in preds} == {str(own.public_id)} and len(preds) == 2
    # The pages' 404s: another class, its experiment, a classmate's or a stranger's submission.
    for url in [
        reverse("api-classroom-detail", args=[other_class.public_id]),
        reverse("api-classroom-results", args=[other_class.public_id]),
        reverse("api-assignment-detail", args=[other_assignment.public_id]),
        reverse("api-assignment-results", args=[other_assignment.public_id]),
        reverse("api-submission-detail", args=[other_sub.public_id]),
        reverse("api-submission-detail", args=[theirs.public_id]),
        reverse("api-assignment-export", args=[assignment.public_id]),  # teachers only
    ]:
        assert c.get(url).status_code == 404, url
    detail = c.get(reverse("api-submission-detail", args=[own.public_id])).json()
    assert detail["student"] is None and detail["expected_label"] == "Group B"
    assert {p["model"] for p in detail["predictions"]} == {m.key for m in assignment.model_versions.all()}
    assert all(p["model_card"].endswith(f"/models/{p['model']}/") for p in detail["predictions"])


def test_teacher_sees_own_classes_only(teacher, classroom, assignment, mine, other):
    own, theirs, classmate = mine
    other_class, _, other_assignment, other_sub = other
    c = client_for(teacher)
    assert ids(c.get("/api/classes/")) == {str(classroom.public_id)}
    assert ids(c.get("/api/submissions/")) == {str(own.public_id), str(theirs.public_id)}
    assert ids(c.get(f"/api/assignments/?classroom={other_class.public_id}")) == set()
    assert c.get("/api/assignments/?classroom=not-a-uuid").status_code == 400
    detail = c.get(reverse("api-submission-detail", args=[theirs.public_id])).json()
    assert detail["student"]["username"] == classmate.username  # the teacher's own view of one submission
    for url in [
        reverse("api-classroom-detail", args=[other_class.public_id]),
        reverse("api-assignment-results", args=[other_assignment.public_id]),
        reverse("api-assignment-export", args=[other_assignment.public_id]),
        reverse("api-submission-detail", args=[other_sub.public_id]),
    ]:
        assert c.get(url).status_code == 404, url
    assert len(c.get(f"/api/predictions/?submission={other_sub.public_id}").json()["results"]) == 0


def test_results_are_the_pages_numbers_and_follow_visibility(teacher, student, classroom, assignment, mine):
    url = reverse("api-assignment-results", args=[assignment.public_id])
    data = client_for(teacher).get(url).json()
    assert data == res.as_dict(res.compute(res.assignment_scope(assignment, teacher)))
    assert ResultsSerializer(data=data).is_valid(), "the schema describes what is served"
    assert data["models"][0]["mine"] is None
    mine_data = client_for(student).get(url).json()
    assert mine_data["shows_mine"] and mine_data["models"][0]["mine"]["done"] == 0  # still pending
    class_url = reverse("api-classroom-results", args=[classroom.public_id])
    assert client_for(teacher).get(class_url).json() == res.as_dict(
        res.compute(res.classroom_scope(classroom, teacher))
    )

    assignment.results_visibility = Assignment.ResultsVisibility.ON_RELEASE
    assignment.save()
    assert client_for(student).get(url).status_code == 404
    assert client_for(student).get(class_url).json()["models"] == []  # nothing shared yet
    assert client_for(teacher).get(url).status_code == 200
    release_results(assignment=assignment)
    assert client_for(student).get(url).status_code == 200


def test_export_is_anonymised(teacher, assignment, mine):
    own, theirs, classmate = mine
    Prediction.objects.filter(submission=own).update(status="done", label="Group B", probabilities={"Group B": 0.9})
    response = client_for(teacher).get(reverse("api-assignment-export", args=[assignment.public_id]))
    rows = response.json()
    assert len(rows) == Prediction.objects.filter(submission__assignment=assignment).count() == 4
    assert ExportRowSerializer(data=rows, many=True).is_valid()
    text = response.content.decode()
    for user in (own.student, classmate):
        assert user.username not in text and user.display_name not in text
    assert str(own.public_id) not in text
    assert len({r["student"] for r in rows}) == 2 and {r["test"] for r in rows} == {1, 2}
    again = client_for(teacher).get(reverse("api-assignment-export", args=[assignment.public_id])).json()
    assert {r["student"] for r in rows}.isdisjoint({r["student"] for r in again})  # new pseudonyms each time


def test_student_submits_through_the_api(student, assignment, other):
    _, _, other_assignment, _ = other
    c = client_for(student)
    before = stored_uploads()
    response = c.post(
        "/api/submissions/",
        {
            "assignment": str(assignment.public_id),
            "photo": synthetic_upload(3),
            "expected_label": "Group D",
            "note": "via the API",
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    sub = Submission.objects.get(public_id=body["id"])
    assert sub.student == student and sub.expected_label == "Group D" and sub.note == "via the API"
    assert {p["status"] for p in body["predictions"]} == {"pending"} and len(body["predictions"]) == 2
    assert len(stored_uploads()) == len(before) + 1  # the same intake and storage as the page

    stored = stored_uploads()
    # Another class's experiment: 404, nothing stored.
    response = c.post(
        "/api/submissions/",
        {"assignment": str(other_assignment.public_id), "photo": synthetic_upload()},
        format="multipart",
    )
    assert response.status_code == 404 and stored_uploads() == stored
    # Not an image: a 400 that says why, nothing stored.
    fake = io.BytesIO(b"not a photo at all\n" * 50)
    fake.name = "holiday.jpg"
    response = c.post("/api/submissions/", {"assignment": str(assignment.public_id), "photo": fake}, format="multipart")
    assert response.status_code == 400 and "photo" in response.json() and stored_uploads() == stored
    # A group outside the list.
    response = c.post(
        "/api/submissions/",
        {"assignment": str(assignment.public_id), "photo": synthetic_upload(), "expected_label": "Martians"},
        format="multipart",
    )
    assert response.status_code == 400 and stored_uploads() == stored


def test_teacher_cannot_submit(teacher, assignment):
    response = client_for(teacher).post(
        "/api/submissions/", {"assignment": str(assignment.public_id), "photo": synthetic_upload()}, format="multipart"
    )
    assert response.status_code == 403
    assert not Submission.objects.exists()


def test_token_authentication(student, classroom):
    c = APIClient()
    assert c.post("/api/token/", {"username": student.username, "password": "wrong"}).status_code == 400
    response = c.post("/api/token/", {"username": student.username, "password": "pw-student-123"})
    assert response.status_code == 200
    c.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert ids(c.get("/api/classes/")) == {str(classroom.public_id)}


def test_uploads_and_token_requests_are_throttled(student, assignment, monkeypatch, settings):
    settings.UPLOADS_PER_MINUTE = 2  # one limit per student, shared with the pages (test_hardening.py)
    c = client_for(student)
    body = lambda i: {"assignment": str(assignment.public_id), "photo": synthetic_upload(i)}  # noqa: E731
    codes = [c.post("/api/submissions/", body(i), format="multipart").status_code for i in range(3)]
    assert codes == [201, 201, 429]
    assert c.get("/api/classes/").status_code == 200  # reading is not the upload budget
    monkeypatch.setattr(api.TokenThrottle, "rate", "2/minute", raising=False)
    anon = APIClient()
    codes = [anon.post("/api/token/", {"username": "x", "password": "y"}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]


def test_api_queries_are_bounded(teacher, assignment, mine, django_assert_max_num_queries):
    c = client_for(teacher)
    with django_assert_max_num_queries(8):
        c.get(reverse("api-assignment-results", args=[assignment.public_id]))
    with django_assert_max_num_queries(8):
        c.get("/api/submissions/")
    with django_assert_max_num_queries(8):
        c.get("/api/assignments/")
    with django_assert_max_num_queries(8):
        c.get("/api/predictions/")


def test_schema_generates_without_warnings_and_docs_page(client, db):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", "/dev/null")
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in ["/api/classes/", "/api/assignments/{public_id}/results/", "/api/submissions/", "/api/predictions/"]:
        assert path in paths, path
    assert "multipart/form-data" in paths["/api/submissions/"]["post"]["requestBody"]["content"]
    page = client.get(reverse("api-docs")).content.decode()
    assert "/api/submissions/" in page and "ModelResults" in page
