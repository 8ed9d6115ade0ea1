"""An experiment made from a lesson, shown in the reader's language.

Its texts were copied from the lesson, in the language of the teacher who made it, and are
the teacher's to edit. A text the teacher left as the lesson wrote it is shown in the reader's
language when the lesson has a translation; a text the teacher changed stays as written.
"""

from django.conf import settings
from django.utils import translation

from inference.models import ModelVersion

from ..models import Assignment
from . import catalogue
from .roles import Casting
from .services import fill


def _norm(text: str) -> str:
    # A textarea posts \r\n; the lesson files have \n.
    return "\n".join(line.rstrip() for line in str(text).replace("\r\n", "\n").strip().split("\n"))


def _casting(assignment: Assignment) -> Casting:
    keys = assignment.model_roles or {}
    found = ModelVersion.objects.filter(key__in=keys.values()).select_related("label_set")
    models = {m.key: m for m in found}
    return Casting(models={role: models[key] for role, key in keys.items() if key in models})


def _texts(lesson: catalogue.Lesson, casting: Casting) -> dict:
    # fill() words its defaults ("the group it saw most") in the lesson's language too.
    with translation.override(lesson.language):

        def f(text):
            # As experiment_defaults() filled them: with the lesson's goal, whatever the teacher set.
            return fill(text, casting=casting, tests_goal=lesson.tests_goal)

        return {
            "title": f(lesson.experiment_title),
            "instructions": f(lesson.student_steps),
            "prediction_questions": [f(q["text"]) for q in lesson.prediction_questions],
            "reflection_questions": [f(q) for q in lesson.reflection_questions],
        }


def show_in_language(assignment: Assignment, language: str | None = None) -> Assignment:
    """Put the reader's language into this instance's unedited lesson texts, for display only.

    The instance must not be saved afterwards (views that edit an experiment never call this).
    """
    original = catalogue.get_lesson(assignment.lesson_key, settings.LANGUAGE_CODE)
    if original is None or original.version != assignment.lesson_version:
        return assignment  # no lesson, or a newer version: the stored texts are all there is
    wanted = original.in_language(language or translation.get_language())
    if len(original.languages) < 2:
        return assignment
    casting = _casting(assignment)
    known = [_texts(original.in_language(code), casting) for code in original.languages]
    target = _texts(wanted, casting)

    def unedited(stored, key, i=None):
        return any(_norm(stored) == _norm(t[key] if i is None else t[key][i]) for t in known)

    for key in ("title", "instructions"):
        if unedited(getattr(assignment, key), key):
            setattr(assignment, key, target[key])
    questions = list(assignment.prediction_questions or [])
    if len(questions) == len(target["prediction_questions"]):
        assignment.prediction_questions = [
            {**q, "text": target["prediction_questions"][i]}
            if unedited(q.get("text", ""), "prediction_questions", i)
            else q
            for i, q in enumerate(questions)
        ]
    reflections = list(assignment.reflection_questions or [])
    if len(reflections) == len(target["reflection_questions"]):
        assignment.reflection_questions = [
            target["reflection_questions"][i] if unedited(r, "reflection_questions", i) else r
            for i, r in enumerate(reflections)
        ]
    return assignment
