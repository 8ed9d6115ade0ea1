"""Lessons in Spanish: every lesson has a translation that matches its original, pages get the
reader's language, and an experiment's unedited lesson texts follow the reader."""

import shutil

import pytest
from django.test import Client
from django.utils import translation

from classroom.lessons import catalogue
from classroom.lessons.localize import show_in_language
from classroom.models import Assignment
from tests import factories

from .conftest import LESSON
from .test_lessons import LIBRARY

pytestmark = pytest.mark.django_db


def test_every_lesson_has_a_spanish_version():
    assert catalogue.validate_all() == []
    for lesson in catalogue.all_lessons("en"):
        spanish = lesson.in_language("es")
        assert spanish.language == "es" and spanish.title != lesson.title, lesson.slug
        assert spanish.models == lesson.models and spanish.tests_goal == lesson.tests_goal
        assert [h for h, _ in spanish.guide_sections()][:2] == ["Preparación", "Minuto a minuto"]
    assert catalogue.get_lesson(LESSON, "es-MX").language == "es"  # a regional variant gets Spanish
    assert catalogue.get_lesson(LESSON, "fr").language == "en"  # no French: the original
    with translation.override("es"):
        assert catalogue.get_lesson(LESSON).language == "es"  # the active language by default


def test_a_translation_that_changes_more_than_words_is_reported(tmp_path, settings):
    shutil.copytree(LIBRARY / LESSON, tmp_path / LESSON)
    manifest = tmp_path / LESSON / "es" / "lesson.yaml"
    manifest.write_text(manifest.read_text().replace("tests_goal: 10", "tests_goal: 12"))
    settings.LESSON_DIRS = [tmp_path]
    errors = catalogue.validate_all()
    assert len(errors) == 1 and str(manifest) in errors[0] and "tests_goal" in errors[0]
    assert catalogue.all_lessons() == []  # pages never see a broken lesson


def test_an_experiment_shows_unedited_lesson_texts_in_the_readers_language(lesson_assignment):
    a = Assignment.objects.get(pk=lesson_assignment.pk)
    english_title, english_steps = a.title, a.instructions
    spanish = catalogue.get_lesson(LESSON, "es")
    shown = show_in_language(Assignment.objects.get(pk=a.pk), "es")
    assert shown.title != english_title and shown.title.startswith("¿")
    assert "[[" not in shown.instructions and shown.instructions.split()[0] == spanish.student_steps.split()[0]
    assert shown.prediction_questions[0]["kind"] == a.prediction_questions[0]["kind"]
    assert shown.prediction_questions[0]["text"] != a.prediction_questions[0]["text"]
    assert shown.reflection_questions[0] != a.reflection_questions[0]
    assert show_in_language(Assignment.objects.get(pk=a.pk), "en").title == english_title

    # A text the teacher edited is the teacher's: it stays as written; the others still follow.
    Assignment.objects.filter(pk=a.pk).update(instructions="Test five faces of each group.")
    shown = show_in_language(Assignment.objects.get(pk=a.pk), "es")
    assert shown.instructions == "Test five faces of each group." and shown.title.startswith("¿")
    # Line endings from a textarea do not count as an edit.
    Assignment.objects.filter(pk=a.pk).update(instructions=english_steps.replace("\n", "\r\n"))
    assert show_in_language(Assignment.objects.get(pk=a.pk), "es").instructions != english_steps


def test_a_spanish_reader_sees_the_experiment_in_spanish(lesson_assignment):
    student = factories.enrol(lesson_assignment.classroom, factories.StudentFactory())
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(student)
    page = client.get(f"/a/{lesson_assignment.public_id}/").content.decode()
    spanish = show_in_language(Assignment.objects.get(pk=lesson_assignment.pk), "es")
    assert '<html lang="es">' in page and spanish.title in page.replace("&#x27;", "'")
    assert lesson_assignment.title not in page.replace("&#x27;", "'")
    class_page = client.get(f"/c/{lesson_assignment.classroom.public_id}/").content.decode().replace("&#x27;", "'")
    assert spanish.title in class_page and lesson_assignment.title not in class_page
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(student)
    assert lesson_assignment.title in english.get(f"/a/{lesson_assignment.public_id}/").content.decode().replace(
        "&#x27;", "'"
    )


def test_the_discussion_sheet_prints_the_guides_questions_in_the_teachers_language(lesson_assignment):
    lesson = catalogue.get_lesson(LESSON, "en")
    for language, guide in (("en", lesson), ("es", lesson.in_language("es"))):
        first_question = guide.guide_section("Discussion questions").split("\n")[0].lstrip("-*0123456789. ")[:30]
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(lesson_assignment.classroom.teacher)
        sheet = client.get(f"/a/{lesson_assignment.public_id}/lesson/sheet/").content.decode().replace("&#x27;", "'")
        assert first_question and first_question in sheet, (language, first_question)
