"""Lessons: templates, experiments from a lesson, the student's path and the teacher's lesson page."""

import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from classroom.lessons import catalogue, roles
from classroom.lessons import selectors as lesson_selectors
from classroom.lessons import services as lesson_services
from classroom.models import AuditLog, GalleryImage, LessonResponse, Prediction, Submission
from classroom.services import classes
from classroom.services.submissions import SubmissionError, submit_photo
from tests import factories
from tests.classroom.lessons.conftest import LESSON

LIBRARY = Path(__file__).resolve().parents[3] / "classroom" / "lessons" / "library"


def test_four_lessons_validate_and_render(client, teacher, demo_models, demo_vgg):
    assert catalogue.validate_all() == []
    lessons = {lesson.slug: lesson for lesson in catalogue.all_lessons()}
    assert {LESSON, "borrowed-eyes", "who-decides-the-label", "one-number-hides-the-harm"} <= set(lessons)
    client.force_login(teacher)
    for lesson in lessons.values():
        assert lesson.reflection_questions and lesson.learning_goals and 5 <= lesson.duration_minutes <= 90
        # every role is played by a model the demo installs (the MLP pair and the demo VGG-Face)
        casting = roles.cast(lesson.models)
        assert casting.complete, (lesson.slug, casting.missing)
        assert {m.key for m in casting.models.values()} <= {
            "demo-mlp-balanced",
            "demo-mlp-unbalanced",
            "demo-vgg-balanced",
        }
        assert casting.synthetic and "synthetic demo models" in casting.note()
        page = client.get(reverse("lesson", args=[lesson.slug])).content.decode()
        assert lesson.title in page.replace("&#x27;", "'") and "Minute by minute" in page
        filled = lesson_services.experiment_defaults(lesson)
        texts = [filled["initial"]["title"], filled["initial"]["instructions"]] + [
            q["text"] for q in filled["prediction_questions"]
        ]
        assert not any("[[" in t for t in texts), lesson.slug  # every placeholder filled


def test_a_broken_template_fails_check_naming_the_file(tmp_path, settings):
    shutil.copytree(LIBRARY / LESSON, tmp_path / LESSON)
    manifest = tmp_path / LESSON / "lesson.yaml"
    manifest.write_text(manifest.read_text().replace("duration_minutes:", "duration_minutes: [oops]\nx_minutes:"))
    settings.LESSON_DIRS = [tmp_path]
    with pytest.raises(SystemCheckError) as exc:
        call_command("check")
    assert str(manifest) in str(exc.value)
    assert catalogue.all_lessons() == []  # pages never see it (no 500)
    # a teacher guide without its sections is named too
    shutil.copy(LIBRARY / LESSON / "lesson.yaml", manifest)
    (tmp_path / LESSON / "teacher_guide.md").write_text("Just some text.\n")
    errors = catalogue.validate_all()
    assert len(errors) == 1 and "teacher_guide.md" in errors[0] and "Minute by minute" in errors[0]


def _checkbox(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert match, name
    return match.group(0)


def test_the_upload_checkbox_is_honoured(client, classroom, published, demo_models):
    """The form used to drop it: uploads followed the gallery whatever the teacher ticked."""
    client.force_login(classroom.teacher)
    page = client.get(reverse("create_assignment", args=[classroom.public_id]) + "?lesson=").content.decode()
    assert " checked" not in _checkbox(page, "allow_uploads")  # off by default with a gallery
    form = {
        "title": "Uploads too",
        "model_versions": [m.pk for m in demo_models],
        "results_visibility": "immediate",
        "allow_uploads": "on",
        "tests_goal": 10,
        "lesson": "",
    }
    assert client.post(reverse("create_assignment", args=[classroom.public_id]), form).status_code == 302
    assignment = classroom.assignments.get(title="Uploads too")
    assert assignment.allow_uploads
    page = client.get(reverse("assignment", args=[assignment.public_id])).content.decode()
    assert "and students' uploads" in page


def test_upload_box_is_on_by_default_without_a_gallery(client, classroom, demo_models):
    client.force_login(classroom.teacher)
    page = client.get(reverse("create_assignment", args=[classroom.public_id]) + "?lesson=").content.decode()
    assert " checked" in _checkbox(page, "allow_uploads")


def test_a_teacher_creates_from_a_lesson_and_edits_a_question(client, classroom, demo_models, published):
    client.force_login(classroom.teacher)
    chooser = client.get(reverse("create_assignment", args=[classroom.public_id])).content.decode()
    assert "Who is in the training data?" in chooser and "Blank experiment" in chooser
    url = reverse("create_assignment", args=[classroom.public_id]) + f"?lesson={LESSON}"
    response = client.get(url)
    form = response.context["form"]
    assert form.initial["title"] and "synthetic demo models" in response.content.decode()
    data = {k: v for k, v in form.initial.items() if v not in (None, False)}
    data.update(results_visibility="immediate", pq_count=len(form.structured))
    for i, spec in form.question_specs():
        data[f"pq_{i}_spec"] = spec
        data[f"pq_{i}"] = form.fields[f"pq_{i}"].initial
    data["pq_0"] = "Which model will be fairer to every group, do you think?"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    a = classroom.assignments.get()
    assert a.lesson_key == LESSON and a.prediction_questions[0]["text"].startswith("Which model will be fairer to")
    assert a.prediction_questions[0]["kind"] == catalogue.get_lesson(LESSON).prediction_questions[0]["kind"]
    assert set(a.model_roles) == {"balanced", "majority-heavy"} and a.reflection_questions
    assert "[[" not in a.instructions and "Group A" in a.instructions + a.title + str(a.prediction_questions)


def _answer(assignment, submission_or_none=None):
    return {
        i: (lesson_services.question_choices(assignment, q) or [("x", "")])[0][0]
        for i, q in enumerate(assignment.prediction_questions)
    }


def test_predict_before_testing_then_locked_and_reflect_after_an_answer(lesson_assignment, student, published):
    a = lesson_assignment
    with pytest.raises(SubmissionError, match="prediction"):
        submit_photo(assignment=a, student=student, gallery_image=published[0])
    with pytest.raises(lesson_services.LessonAnswerError):
        lesson_services.save_predictions(assignment=a, student=student, answers={0: "no such model"})
    lesson_services.save_predictions(assignment=a, student=student, answers=_answer(a))
    with pytest.raises(lesson_services.LessonAnswerError, match="test an image first"):
        lesson_services.save_reflections(assignment=a, student=student, answers={0: "too early"})
    sub = submit_photo(assignment=a, student=student, gallery_image=published[0])
    with pytest.raises(lesson_services.LessonAnswerError, match="locked"):
        lesson_services.save_predictions(assignment=a, student=student, answers=_answer(a))
    Prediction.objects.filter(submission=sub).update(status="done", label="Group A", face_found=False)
    lesson_services.save_reflections(assignment=a, student=student, answers={0: "It guessed Group A a lot."})
    assert LessonResponse.objects.filter(assignment=a, student=student, kind="reflection").count() == 1
    progress = lesson_selectors.my_progress(a, student)
    assert (progress.tests, progress.goal, progress.can_reflect) == (1, 3, True)
    assert str(published[0].public_id) in progress.tried_images


def test_the_answer_page_shows_image_verdict_and_training_mix(client, lesson_assignment, student, published):
    a = lesson_assignment
    lesson_services.save_predictions(assignment=a, student=student, answers=_answer(a))
    image = next(g for g in published if g.label == "Group C")
    sub = submit_photo(assignment=a, student=student, gallery_image=image, note="")
    Prediction.objects.filter(submission=sub).update(status="done", label="Group A", face_found=False)
    client.force_login(student)
    page = client.get(reverse("submission", args=[sub.public_id])).content.decode()
    assert reverse("gallery_image", args=[image.public_id]) in page
    assert page.count("✗ Wrong") == 2 and "1 of the 3 tests your teacher asked for" in page
    assert re.search(r"In training, this model saw [\d,]+ Group A(, [\d,]+ Group C)? and [\d,]+ Group C images", page)
    assert "10 times more Group A than Group C" in page
    assert "Test another image" in page
    # A gallery image is a face crop: never "no face was found" (the face finder's flag says False here).
    assert "face finder could not find" not in page and "No face was found" not in page
    status = client.get(reverse("submission_status", args=[sub.public_id])).json()
    assert {p["verdict"] for p in status["predictions"]} == {"Wrong"}
    assert all(p["face_note"] == "" and p["face_found"] is None for p in status["predictions"])
    # ...and a note can be added after the answer
    client.post(reverse("update_note", args=[sub.public_id]), {"note": "It said Group A for a Group C face!"})
    sub.refresh_from_db()
    assert sub.note == "It said Group A for a Group C face!"


def test_an_upload_without_a_face_says_so_plainly(client, classroom, student, demo_models):
    from tests.helpers import synthetic_upload

    a = classes.create_assignment(
        classroom=classroom, title="Uploads", instructions="", model_versions=list(demo_models), ask_expected=True
    )
    sub = submit_photo(assignment=a, student=student, upload=synthetic_upload())
    Prediction.objects.filter(submission=sub).update(status="done", label="Group A", face_found=False)
    client.force_login(student)
    page = client.get(reverse("submission", args=[sub.public_id])).content.decode()
    assert page.count("face finder could not find a face") == 2


def test_close_reopen_and_delete(client, lesson_assignment, student, published, django_capture_on_commit_callbacks):
    a = lesson_assignment
    lesson_services.save_predictions(assignment=a, student=student, answers=_answer(a))
    sub = submit_photo(assignment=a, student=student, gallery_image=published[0])
    photo = sub.photo
    client.force_login(a.classroom.teacher)
    client.post(reverse("close_assignment", args=[a.public_id]))
    with pytest.raises(SubmissionError, match="not open"):
        submit_photo(assignment=type(a).objects.get(pk=a.pk), student=student, gallery_image=published[1])
    client.post(reverse("reopen_assignment", args=[a.public_id]))
    assert submit_photo(assignment=type(a).objects.get(pk=a.pk), student=student, gallery_image=published[1])
    page = client.get(reverse("delete_assignment", args=[a.public_id])).content.decode()
    assert "cannot be undone" in page
    assert client.post(reverse("delete_assignment", args=[a.public_id]), {}).status_code == 400  # not confirmed
    with django_capture_on_commit_callbacks(execute=True):  # photos go once the delete has committed
        response = client.post(reverse("delete_assignment", args=[a.public_id]), {"confirm": "on"})
    assert response.status_code == 302
    assert not Submission.objects.filter(assignment_id=a.pk).exists()
    assert not LessonResponse.objects.filter(assignment_id=a.pk).exists()
    from django.core.files.storage import default_storage

    assert not default_storage.exists(photo)
    entry = AuditLog.objects.get(action=AuditLog.Action.EXPERIMENT_DELETED)
    assert entry.details["tests"] == 2


def test_lesson_page_progress_predictions_vs_outcome_and_anonymous_reflections(client, lesson_assignment, published):
    a = lesson_assignment
    classroom = a.classroom
    students = [factories.enrol(classroom, factories.StudentFactory(display_name=f"Kid {i}")) for i in range(3)]
    heavy = a.model_roles["majority-heavy"]
    worst_q = next(i for i, q in enumerate(a.prediction_questions) if q["kind"] == "worst_group")
    for n, s in enumerate(students):
        answers = _answer(a)
        answers[worst_q] = "Group C" if n < 2 else "Group A"
        lesson_services.save_predictions(assignment=a, student=s, answers=answers)
    # Five different images per group, all answered: the heavy model gets Group C wrong.
    for group in ("Group A", "Group C"):
        images = [
            GalleryImage.objects.create(
                classroom=classroom,
                label_set=a.label_set,
                label=group,
                source="t",
                synthetic=True,
                photo=f"gallery/{group}-{i}.jpg",
                width=96,
                height=96,
            )
            for i in range(5)
        ]
        for image in images:
            sub = Submission.objects.create(assignment=a, student=students[0], gallery_image=image, true_label=group)
            for m in a.model_versions.all():
                right = group == "Group A" or m.key != heavy
                Prediction.objects.create(
                    submission=sub, model_version=m, status="done", label=group if right else "Group A"
                )
    lesson_services.save_reflections(assignment=a, student=students[0], answers={0: "The heavy one said Group A."})
    client.force_login(classroom.teacher)
    page = client.get(reverse("lesson_page", args=[a.public_id])).content.decode()
    assert "2 of 3 predicted right" in page and "wrong most often for Group C (0% right)" in page
    assert "The heavy one said Group A." in page
    assert "Kid 0:" not in page  # anonymised by default...
    assert "Kid 0:" in client.get(reverse("lesson_page", args=[a.public_id]) + "?names=1").content.decode()
    assert "Kid 2" in page  # ...while the progress table names students for the teacher
    sheet = client.get(reverse("discussion_sheet", args=[a.public_id])).content.decode()
    assert "2 of 3 predicted right" in sheet and "Kid 0" not in sheet
    csv = client.get(reverse("answers_csv", args=[a.public_id])).content.decode()
    assert "The heavy one said Group A." in csv and "Kid" not in csv


def test_preview_tests_are_marked_and_never_counted(client, lesson_assignment, published):
    from classroom import results as res

    a = lesson_assignment
    teacher = a.classroom.teacher
    client.force_login(teacher)
    page = client.get(reverse("preview_assignment", args=[a.public_id])).content.decode()
    assert 'id="preview-banner"' in page and 'id="gallery-form"' in page  # no predictions needed to try it
    response = client.post(
        reverse("submit_gallery", args=[a.public_id]),
        {"gallery-gallery_image": str(published[0].public_id), "preview": "1"},
    )
    assert response.status_code == 302
    sub = Submission.objects.get(assignment=a)
    assert sub.preview and sub.student == teacher
    Prediction.objects.filter(submission=sub).update(status="done", label=published[0].label)
    results = res.compute(res.assignment_scope(a))
    assert sum(r.done for r in results.models) == 0


def test_projector_says_not_enough_tests_below_the_minimum(client, lesson_assignment, student, published):
    a = lesson_assignment
    lesson_services.save_predictions(assignment=a, student=student, answers=_answer(a))
    for image in published[:3]:
        sub = submit_photo(assignment=a, student=student, gallery_image=image)
        Prediction.objects.filter(submission=sub).update(status="done", label=image.label)
    client.force_login(a.classroom.teacher)
    page = client.get(reverse("projector", args=[a.public_id])).content.decode()
    assert "Not enough tests yet to compare groups" in page and "Not enough tests yet (1 of 5)" in page
    assert "largest gap" not in page
    data = client.get(reverse("results_json", args=[a.public_id])).json()
    assert all(g["accuracy"] is None for m in data["models"] for g in m["groups"])
