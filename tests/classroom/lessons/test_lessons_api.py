"""The lessons' REST API: the library, experiments from a lesson, students' answers, progress."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from classroom.lessons import catalogue
from classroom.models import Assignment, AuditLog, LessonResponse, Prediction
from classroom.services.submissions import submit_photo
from tests import factories
from tests.classroom.lessons.conftest import LESSON


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def client_for(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_teachers_read_the_lesson_library_students_do_not(teacher, student, demo_models):
    c = client_for(teacher)
    listed = c.get("/api/lessons/").json()
    assert [(x["title"], x["duration_minutes"]) for x in listed] == [
        (lesson.title, lesson.duration_minutes) for lesson in catalogue.all_lessons()
    ]
    assert len(listed) >= 4
    one = c.get(f"/api/lessons/{LESSON}/").json()
    assert one["teacher_guide"].count("## ") >= 5 and one["prediction_questions"][0]["kind"] == "fairer_model"
    # The roles are played by models installed here (the synthetic demo pair), and it says so.
    assert set(one["casting"]["models"].values()) == {m.key for m in demo_models}
    assert one["casting"]["synthetic"] and "synthetic" in one["casting"]["note"]
    assert c.get("/api/lessons/no-such-lesson/").status_code == 404
    assert client_for(student).get("/api/lessons/").status_code == 404
    assert client_for(student).get(f"/api/lessons/{LESSON}/").status_code == 404


def test_create_an_experiment_from_a_lesson_then_edit_close_and_reopen(teacher, classroom, demo_models, published):
    c = client_for(teacher)
    created = c.post("/api/assignments/", {"classroom": str(classroom.public_id), "lesson": LESSON}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    lesson = catalogue.get_lesson(LESSON)
    assert body["lesson"] == LESSON and body["lesson_version"] == lesson.version
    assert {m["key"] for m in body["models"]} == {m.key for m in demo_models}
    assert set(body["model_roles"]) == {"balanced", "majority-heavy"}
    assert [q["kind"] for q in body["prediction_questions"]] == [q["kind"] for q in lesson.prediction_questions]
    assert "[[" not in body["title"] + body["instructions"] and body["ask_predictions"]
    assert body["allow_uploads"] is False  # this lesson uses the gallery only
    a = Assignment.objects.get(public_id=body["id"])

    url = f"/api/assignments/{a.public_id}/"
    edited = c.patch(
        url,
        {"title": "Our own title", "reflection_questions": ["What surprised you?"], "tests_goal": 4},
        format="json",
    )
    assert edited.status_code == 200, edited.content
    a.refresh_from_db()
    assert (a.title, a.reflection_questions, a.tests_goal) == ("Our own title", ["What surprised you?"], 4)
    assert c.patch(url, {"classroom": str(classroom.public_id)}, format="json").status_code == 400
    # The rule "results after the due date need a due date" is the service's, so the API keeps it too.
    bad = c.patch(url, {"results_visibility": "after_due"}, format="json")
    assert bad.status_code == 400 and "due date" in str(bad.json())

    assert c.post(f"{url}close/").json()["closed_at"] is not None
    assert c.post(f"{url}reopen/").json()["closed_at"] is None

    # Once a student has tested, the models cannot change (the results compare what every test ran on).
    student = factories.enrol(classroom, factories.StudentFactory(created_by=teacher))
    a.ask_predictions = False
    a.save()
    submit_photo(assignment=a, student=student, gallery_image=published[0])
    swapped = c.patch(url, {"models": [demo_models[0].key]}, format="json")
    assert swapped.status_code == 400 and "cannot change" in str(swapped.json())


def test_creating_checks_what_it_is_given(teacher, classroom, demo_models):
    c = client_for(teacher)
    base = {"classroom": str(classroom.public_id)}
    blank = c.post("/api/assignments/", base, format="json")
    assert blank.status_code == 400 and "title" in blank.json()
    no_models = c.post("/api/assignments/", {**base, "title": "Blank"}, format="json")
    assert no_models.status_code == 400 and "at least one model" in str(no_models.json())
    unknown = c.post("/api/assignments/", {**base, "title": "B", "models": ["nope"]}, format="json")
    assert unknown.status_code == 400 and "No such model: nope" in str(unknown.json())
    assert c.post("/api/assignments/", {**base, "lesson": "nope"}, format="json").status_code == 400
    bad_kind = {**base, "lesson": LESSON, "prediction_questions": [{"kind": "guess", "text": "?"}]}
    assert c.post("/api/assignments/", bad_kind, format="json").status_code == 400
    blank_ok = c.post(
        "/api/assignments/",
        {**base, "title": "Blank", "models": [m.key for m in demo_models], "reflection_questions": ["Why?"]},
        format="json",
    )
    assert blank_ok.status_code == 201, blank_ok.content
    assert blank_ok.json()["lesson"] == "" and blank_ok.json()["prediction_questions"] == []
    # Another teacher's class is not there at all.
    other = factories.ClassroomFactory()
    stranger = {"classroom": str(other.public_id), "lesson": LESSON}
    assert c.post("/api/assignments/", stranger, format="json").status_code == 404
    assert not other.assignments.exists()
    assert not AuditLog.objects.filter(action=AuditLog.Action.EXPERIMENT_DELETED).exists()


def test_a_student_predicts_tests_and_reflects_through_the_api(lesson_assignment, student, published):
    a = lesson_assignment
    c = client_for(student)
    url = f"/api/assignments/{a.public_id}/predictions/"
    got = c.get(url).json()
    assert got["editable"] and got["required_before_testing"]
    first = got["questions"][0]
    assert first["kind"] == "fairer_model" and first["answer"] == ""
    values = [ch["value"] for ch in first["choices"]]
    assert "Not sure" in values and len(values) == 3

    wrong = c.post(url, {"answers": [{"question": 0, "answer": "a model that is not there"}]}, format="json")
    assert wrong.status_code == 400 and "choices" in str(wrong.json())
    saved = c.post(url, {"answers": [{"question": 0, "answer": values[0]}]}, format="json")
    assert saved.status_code == 200 and saved.json()["questions"][0]["answer"] == values[0]
    assert not saved.json()["required_before_testing"]

    r_url = f"/api/assignments/{a.public_id}/reflections/"
    early = c.get(r_url).json()
    assert not early["editable"] and "test an image first" in early["why_not"]
    assert c.post(r_url, {"answers": [{"question": 0, "answer": "x"}]}, format="json").status_code == 400

    sub = submit_photo(assignment=a, student=student, gallery_image=published[0])
    locked = c.post(url, {"answers": [{"question": 0, "answer": "Not sure"}]}, format="json")
    assert locked.status_code == 400 and "locked" in str(locked.json())
    after = c.get(url).json()
    assert after["questions"][0]["answer"] == values[0]  # unchanged
    assert not after["editable"] and "locked" in after["why_not"]

    Prediction.objects.filter(submission=sub).update(status="done", label="Group A", face_found=False)
    reflected = c.post(r_url, {"answers": [{"question": 0, "answer": "It liked Group A."}]}, format="json")
    assert reflected.status_code == 200, reflected.content
    assert reflected.json()["questions"][0]["answer"] == "It liked Group A."
    assert LessonResponse.objects.filter(assignment=a, student=student).count() == 2

    # Their own answers only: a classmate sees empty ones, the teacher's side is the progress route.
    classmate = factories.enrol(a.classroom, factories.StudentFactory(created_by=a.classroom.teacher))
    assert client_for(classmate).get(url).json()["questions"][0]["answer"] == ""
    assert client_for(a.classroom.teacher).get(url).status_code == 404


def test_the_teacher_reads_progress_with_names_and_the_class_predictions(lesson_assignment, student, published):
    a = lesson_assignment
    client_for(student).post(
        f"/api/assignments/{a.public_id}/predictions/",
        {"answers": [{"question": 0, "answer": "Not sure"}]},
        format="json",
    )
    factories.enrol(a.classroom, factories.StudentFactory(created_by=a.classroom.teacher))
    body = client_for(a.classroom.teacher).get(f"/api/assignments/{a.public_id}/progress/").json()
    assert body["tests_goal"] == 3 and (body["started"], body["predicted"], body["reflected"]) == (1, 1, 0)
    rows = {r["username"]: r for r in body["students"]}
    assert len(rows) == 2 and rows[student.username]["predicted"] and rows[student.username]["tests"] == 0
    first = body["predictions"][0]
    assert first["total"] == 1 and {c["value"]: c["students"] for c in first["chosen"]}["Not sure"] == 1
    assert first["right_answer"] == [] and "Not enough tests yet" in first["headline"]
    assert client_for(student).get(f"/api/assignments/{a.public_id}/progress/").status_code == 404
