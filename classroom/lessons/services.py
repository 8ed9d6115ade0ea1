"""Lesson workflows: an experiment's defaults from a template, and students' predictions and reflections."""

import re

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from ..models import Assignment, Classroom, LessonResponse, Prediction, Submission, User
from ..services import classes
from ..services.submissions import NOT_SURE
from .catalogue import MODEL_ROLES, QUESTION_KINDS, Lesson
from .roles import Casting, cast, follow, majority_of

MAX_ANSWER = 2000
PREDICTIONS_LOCKED = gettext_noop("Your predictions are locked: you have already started testing.")
TOO_EARLY_TO_REFLECT = gettext_noop("Reflect after you have seen some answers: test an image first.")


class LessonAnswerError(ValueError):
    """An answer cannot be saved; the message says why, in words for a student."""


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return gettext("%(items)s and %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}


def fill(text: str, *, casting: Casting, tests_goal: int) -> str:
    """Replace a template's [[placeholders]] with this class's models and groups (the words that
    stand in for a missing value are in the page's language, like the lesson's text)."""
    models = casting.models
    heavy_group, k = majority_of(casting.majority_heavy)
    any_model = next(iter(models.values()), None)
    groups = list(any_model.label_set.labels) if any_model else []
    values = {
        "majority_group": heavy_group or gettext("the group it saw most"),
        "k": str(k or gettext("many")),
        "groups": _join(groups) if groups else gettext("each group"),
        "tests_goal": str(tests_goal),
        **{f"model:{role}": m.name for role, m in models.items()},
    }
    return re.sub(r"\[\[([a-z_:-]+)\]\]", lambda m: values.get(m.group(1), m.group(0)), text)


def experiment_defaults(lesson: Lesson, teacher: User | None = None) -> dict:
    """What "New experiment" pre-fills from a lesson: every text (the teacher may edit each),
    the models that play its roles (among those `teacher` may use), the photo source and the questions."""
    from ..selectors import usable_models

    casting = cast(lesson.models, candidates=usable_models(teacher))

    def f(text):
        return fill(text, casting=casting, tests_goal=lesson.tests_goal)

    reflections = [f(q) for q in lesson.reflection_questions]
    return {
        "casting": casting,
        "initial": {
            "lesson": lesson.slug,
            "title": f(lesson.experiment_title),
            "instructions": f(lesson.student_steps),
            "model_versions": [m.pk for m in casting.models.values()],
            "ask_expected": True,
            "allow_uploads": lesson.allow_uploads,
            # As the teacher guides suggest: everyone predicts and tests before the class results show.
            "results_visibility": Assignment.ResultsVisibility.ON_RELEASE,
            "ask_predictions": bool(lesson.prediction_questions),
            "tests_goal": lesson.tests_goal,
            "perception_activity": lesson.perception_activity,
            "reflection_questions": "\n".join(reflections),  # the form's textarea: one per line
        },
        "prediction_questions": [{**q, "text": f(q["text"])} for q in lesson.prediction_questions],
        "reflection_questions": reflections,
        "model_roles": {role: m.key for role, m in casting.models.items()},
    }


def experiment_fields(lesson: Lesson | None, teacher: User | None = None) -> dict:
    """create_assignment's fields before the teacher changes any: a lesson's defaults, or blank."""
    if lesson is None:
        return {
            "title": "",
            "instructions": "",
            "model_versions": [],
            "ask_expected": True,
            "allow_uploads": None,
            "ask_predictions": False,
            "prediction_questions": [],
            "reflection_questions": [],
            "tests_goal": 10,
            "perception_activity": False,
            "audits_enabled": False,
        }
    defaults = experiment_defaults(lesson, teacher)
    initial = defaults["initial"]
    return {
        "title": initial["title"],
        "instructions": initial["instructions"],
        "model_versions": list(defaults["casting"].models.values()),
        "ask_expected": True,
        "allow_uploads": lesson.allow_uploads,
        "results_visibility": initial["results_visibility"],
        "ask_predictions": initial["ask_predictions"],
        "prediction_questions": defaults["prediction_questions"],
        "reflection_questions": defaults["reflection_questions"],
        "tests_goal": lesson.tests_goal,
        "perception_activity": lesson.perception_activity,
        "audits_enabled": lesson.audits,
    }


def create_experiment(*, classroom: Classroom, lesson: Lesson | None, model_versions: list, **fields) -> Assignment:
    """An experiment, from a lesson or blank: the lesson's roles follow the models actually
    chosen (the teacher may swap one). `fields` as for classes.create_assignment."""
    roles = experiment_defaults(lesson, classroom.teacher)["model_roles"] if lesson else {}
    return classes.create_assignment(
        classroom=classroom,
        model_versions=model_versions,
        lesson_key=lesson.slug if lesson else "",
        lesson_version=lesson.version if lesson else None,
        model_roles=follow(model_versions, roles),
        **fields,
    )


MAX_QUESTION = 500


def clean_prediction_questions(questions: list[dict]) -> list[dict]:
    """Prediction questions as stored: a known kind, a text, and a role only where one is named."""
    out = []
    for i, q in enumerate(questions, 1):
        kind, text = q.get("kind"), (q.get("text") or "").strip()
        if kind not in QUESTION_KINDS:
            raise ValueError(
                gettext("Prediction question %(n)s: the kind must be one of %(kinds)s.")
                % {"n": i, "kinds": ", ".join(QUESTION_KINDS)}
            )
        if not text or len(text) > MAX_QUESTION:
            raise ValueError(
                gettext("Prediction question %(n)s: write a question of 1 to %(max)s characters.")
                % {"n": i, "max": MAX_QUESTION}
            )
        role = q.get("model_role") or ""
        if role and role not in MODEL_ROLES:
            raise ValueError(
                gettext("Prediction question %(n)s: the model role must be one of %(roles)s.")
                % {"n": i, "roles": ", ".join(MODEL_ROLES)}
            )
        out.append({"kind": kind, "text": text, **({"model_role": role} if role else {})})
    return out


# --- Prediction questions: choices ------------------------------------------------------


def question_choices(assignment: Assignment, question: dict, models=None) -> list[tuple[str, str]] | None:
    """A structured question's choices as (stored value, shown label); None for free text."""
    kind = question.get("kind")
    if kind in ("fairer_model", "higher_overall"):
        models = models if models is not None else list(assignment.model_versions.order_by("family", "key"))
        return [(m.key, m.name) for m in models] + [(NOT_SURE, gettext(NOT_SURE))]
    if kind == "worst_group":
        return [(g, g) for g in assignment.label_set.labels] + [(NOT_SURE, gettext(NOT_SURE))]
    return None


# --- Students' answers ---------------------------------------------------------------------


def has_tested(assignment: Assignment, student: User) -> bool:
    return Submission.objects.filter(assignment=assignment, student=student).exists()


def has_an_answer(assignment: Assignment, student: User) -> bool:
    """Reflections come after seeing results: at least one test a model has answered."""
    return Prediction.objects.filter(
        submission__assignment=assignment, submission__student=student, status=Prediction.Status.DONE
    ).exists()


def _is_preview(assignment: Assignment, user: User) -> bool:
    return user.pk == assignment.classroom.teacher_id


def _check_member(assignment: Assignment, user: User) -> None:
    if not _is_preview(assignment, user) and not assignment.classroom.enrollments.filter(student=user).exists():
        raise PermissionError(gettext("Only students of this class can answer."))


@transaction.atomic
def _save(assignment, user, kind, questions: list[str], answers: dict[int, str]) -> int:
    saved = 0
    preview = _is_preview(assignment, user)
    for i, answer in answers.items():
        if not 0 <= i < len(questions):
            raise LessonAnswerError(gettext("That question is not part of this experiment any more. Reload the page."))
        answer = (answer or "").strip()
        if len(answer) > MAX_ANSWER:
            raise LessonAnswerError(gettext("An answer can be at most %(max)s characters.") % {"max": MAX_ANSWER})
        key = {"assignment": assignment, "student": user, "kind": kind, "question": i}
        if not answer:
            LessonResponse.objects.filter(**key).delete()
            continue
        LessonResponse.objects.update_or_create(
            **key, defaults={"answer": answer, "question_text": questions[i][:500], "preview": preview}
        )
        saved += 1
    return saved


def save_predictions(*, assignment: Assignment, student: User, answers: dict[int, str]) -> int:
    """Predictions before testing: editable until the student's first test (then they are what
    the student really predicted). A teacher previewing may always change theirs."""
    _check_member(assignment, student)
    if not _is_preview(assignment, student) and has_tested(assignment, student):
        raise LessonAnswerError(gettext(PREDICTIONS_LOCKED))
    questions = assignment.prediction_questions
    for i, answer in answers.items():
        if 0 <= i < len(questions) and answer:
            choices = question_choices(assignment, questions[i])
            if choices is not None and answer not in {v for v, _ in choices}:
                raise LessonAnswerError(gettext("Pick one of the choices for each question."))
    if not any((a or "").strip() for a in answers.values()):
        raise LessonAnswerError(gettext('Answer at least one question ("Not sure" is a fine answer).'))
    return _save(assignment, student, LessonResponse.Kind.PREDICTION, [q["text"] for q in questions], answers)


def save_reflections(
    *, assignment: Assignment, student: User, answers: dict[int, str], require_answer: bool = True
) -> int:
    """Reflections after seeing results: open once a model has answered one of the student's tests.
    (`require_answer=False` only for seed_demo, whose tests are answered once its worker starts.)"""
    _check_member(assignment, student)
    if require_answer and not has_an_answer(assignment, student):
        raise LessonAnswerError(gettext(TOO_EARLY_TO_REFLECT))
    return _save(assignment, student, LessonResponse.Kind.REFLECTION, list(assignment.reflection_questions), answers)
