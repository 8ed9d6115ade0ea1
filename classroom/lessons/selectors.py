"""Reads for the lesson pages: progress, the class's predictions against what happened,
reflections, and how often the class agreed on perceived groups."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext, ngettext

from .. import results as res
from .. import selectors
from ..models import Assignment, LessonResponse, Submission, User
from ..services.submissions import needs_predictions_first
from .agreement import perception_agreement
from .services import has_an_answer, question_choices

# --- Progress --------------------------------------------------------------------------


@dataclass
class StudentProgress:
    student: User
    tests: int
    predicted: bool
    reflections: int

    @property
    def started(self) -> bool:
        return self.tests > 0 or self.predicted


def progress(assignment: Assignment) -> list[StudentProgress]:
    """Every student of the class: tests done, predicted yet, reflections answered (three small queries)."""
    students = selectors.roster(assignment.classroom)
    tests = dict(
        Submission.objects.filter(assignment=assignment, preview=False)
        .values_list("student_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    answers = (
        LessonResponse.objects.filter(assignment=assignment, preview=False)
        .values("student_id")
        .annotate(
            p=Count("id", filter=Q(kind=LessonResponse.Kind.PREDICTION)),
            r=Count("id", filter=Q(kind=LessonResponse.Kind.REFLECTION)),
        )
        .order_by()
    )
    by_student = {a["student_id"]: a for a in answers}
    return [
        StudentProgress(
            student=s,
            tests=tests.get(s.pk, 0),
            predicted=bool(by_student.get(s.pk, {}).get("p")),
            reflections=by_student.get(s.pk, {}).get("r", 0),
        )
        for s in students
    ]


@dataclass
class MyProgress:
    tests: int
    goal: int
    predicted: bool
    must_predict: bool  # the test step waits for the predictions
    can_reflect: bool
    predictions: dict[int, str]
    reflections: dict[int, str]
    tried_images: set = field(default_factory=set)  # public ids (str) of gallery images already tested

    @property
    def goal_reached(self) -> bool:
        return self.tests >= self.goal


def _tried(subs) -> set[str]:
    return {str(u) for u in subs.exclude(gallery_image=None).values_list("gallery_image__public_id", flat=True)}


def my_progress(assignment: Assignment, student: User) -> MyProgress:
    subs = Submission.objects.filter(assignment=assignment, student=student)
    answers = defaultdict(dict)
    for r in LessonResponse.objects.filter(assignment=assignment, student=student):
        answers[r.kind][r.question] = r.answer
    preview = student.pk == assignment.classroom.teacher_id
    return MyProgress(
        tests=subs.count(),
        goal=assignment.tests_goal,
        predicted=bool(answers[LessonResponse.Kind.PREDICTION]),
        must_predict=not preview and needs_predictions_first(assignment, student),
        can_reflect=has_an_answer(assignment, student),
        predictions=dict(answers[LessonResponse.Kind.PREDICTION]),
        reflections=dict(answers[LessonResponse.Kind.REFLECTION]),
        tried_images=_tried(subs),
    )


# --- Predictions against what happened ---------------------------------------------------------


@dataclass
class Outcome:
    """What the class's results say the answer to a prediction question is."""

    answer: set[str]  # the right choice(s); empty while there are not enough tests
    sentence: str  # what happened, in words for the class
    sure: bool = False  # the deciding numbers' intervals do not overlap


@dataclass
class PredictionSummary:
    index: int
    question: dict
    answers: list[tuple[str, str, int]]  # (value, label, how many students chose it)
    total: int
    outcome: Outcome | None  # None for free-text questions
    texts: list[str] = field(default_factory=list)  # free-text answers (anonymous)

    @property
    def right(self) -> int:
        if not self.outcome or not self.outcome.answer:
            return 0
        return sum(n for value, _, n in self.answers if value in self.outcome.answer)

    @property
    def headline(self) -> str:
        """ "14 of 22 predicted Model B would be the fairer: it was." """
        if self.outcome is None:
            return ngettext("%(n)s answer.", "%(n)s answers.", self.total) % {"n": self.total}
        if not self.outcome.answer:
            return gettext("%(n)s predicted. %(outcome)s") % {"n": self.total, "outcome": self.outcome.sentence}
        return gettext("%(right)s of %(n)s predicted right. %(outcome)s") % {
            "right": self.right,
            "n": self.total,
            "outcome": self.outcome.sentence,
        }


def _pts(x: float) -> str:
    return f"{x * 100:.0f}"


def _and(names: list[str]) -> str:
    """ "A and B" (and "A and B and C"), in the page's language."""
    out = names[0] if names else ""
    for name in names[1:]:
        out = gettext("%(first)s and %(next)s") % {"first": out, "next": name}
    return out


def _fairer(results) -> Outcome:
    models = results.models
    if any(r.disparity is None for r in models) or len(models) < 2:
        return Outcome(set(), gettext("Not enough tests yet to tell: every model needs two groups with enough tests."))
    gaps = {r.model.key: r.disparity.gap for r in models}
    best = min(gaps.values())
    winners = {k for k, g in gaps.items() if abs(g - best) < 1e-9}
    names = _and([r.model.name for r in models if r.model.key in winners])
    detail = ", ".join(
        gettext("%(model)s %(points)s points") % {"model": r.model.name, "points": _pts(r.disparity.gap)}
        for r in models
    )
    return Outcome(
        winners,
        gettext("The smaller gap between best and worst group: %(models)s (%(detail)s).")
        % {"models": names, "detail": detail},
    )


def _higher_overall(results) -> Outcome:
    models = results.models
    if any(not r.enough for r in models) or len(models) < 2:
        return Outcome(set(), gettext("Not enough tests yet to tell."))
    accs = {r.model.key: r.accuracy for r in models}
    best = max(accs.values())
    winners = {k for k, a in accs.items() if abs(a - best) < 1e-9}
    ranked = sorted(models, key=lambda r: -r.accuracy)
    sure = len(ranked) >= 2 and ranked[0].interval[0] > ranked[1].interval[1]
    names = _and([r.model.name for r in models if r.model.key in winners])
    detail = ", ".join(f"{r.model.name} {r.accuracy * 100:.0f}%" for r in models)
    return Outcome(
        winners,
        gettext("Higher overall accuracy: %(models)s (%(detail)s).") % {"models": names, "detail": detail},
        sure,
    )


def _worst_group(results, model_key: str | None) -> Outcome:
    r = results.by_key.get(model_key or "")
    if r is None:
        return Outcome(set(), gettext("This question's model is not part of the experiment any more."))
    tested = r.tested_groups
    if len(tested) < 2:
        return Outcome(
            set(),
            gettext("Not enough tests yet to tell which group %(model)s gets wrong most.") % {"model": r.model.name},
        )
    worst = min(g.accuracy for g in tested)
    groups = [g for g in tested if abs(g.accuracy - worst) < 1e-9]
    short = [g.group for g in r.short_groups]
    names = _and(
        [
            gettext("%(group)s (%(percent)s%% right)") % {"group": g.group, "percent": f"{g.accuracy * 100:.0f}"}
            for g in groups
        ]
    )
    values = {"model": r.model.name, "groups": names, "short": ", ".join(short)}
    if short:
        sentence = gettext("%(model)s was wrong most often for %(groups)s. (%(short)s: not enough tests yet.)")
    else:
        sentence = gettext("%(model)s was wrong most often for %(groups)s.")
    return Outcome({g.group for g in groups}, sentence % values)


def prediction_summaries(assignment: Assignment, results=None) -> list[PredictionSummary]:
    """Per prediction question: what the class chose, and what the class's own results say."""
    results = results or res.compute(res.assignment_scope(assignment), trend=False, pairs=False)
    rows = LessonResponse.objects.filter(
        assignment=assignment, kind=LessonResponse.Kind.PREDICTION, preview=False
    ).values_list("question", "answer")
    by_question = defaultdict(list)
    for q, answer in rows:
        by_question[q].append(answer)
    models = [r.model for r in results.models]
    summaries = []
    for i, q in enumerate(assignment.prediction_questions):
        given = by_question.get(i, [])
        choices = question_choices(assignment, q, models=models)
        if choices is None:
            summaries.append(PredictionSummary(i, q, [], len(given), None, texts=sorted(given)))
            continue
        counts = Counter(given)
        if q["kind"] == "fairer_model":
            outcome = _fairer(results)
        elif q["kind"] == "higher_overall":
            outcome = _higher_overall(results)
        else:
            outcome = _worst_group(results, assignment.model_roles.get(q.get("model_role", "")))
        summaries.append(
            PredictionSummary(i, q, [(v, label, counts.get(v, 0)) for v, label in choices], len(given), outcome)
        )
    return summaries


# --- Reflections -------------------------------------------------------------------------


def reflections(assignment: Assignment) -> list[dict]:
    """Per reflection question, every answer with its author (the page hides names by default)."""
    rows = (
        LessonResponse.objects.filter(assignment=assignment, kind=LessonResponse.Kind.REFLECTION, preview=False)
        .select_related("student")
        .order_by("question", "updated_at")
    )
    by_question = defaultdict(list)
    for r in rows:
        by_question[r.question].append({"student": str(r.student), "answer": r.answer})
    return [
        {"index": i, "text": text, "answers": by_question.get(i, [])}
        for i, text in enumerate(assignment.reflection_questions)
    ]


# --- "Who decides the label?" ------------------------------------------------------------------


def agreement(assignment: Assignment):
    """How often the class's perceived groups agree with each other and with the dataset's label.

    One perception per student and gallery image (a repeat test of the same image is the
    same student's view again, not another rater)."""
    rows = (
        Submission.objects.filter(assignment=assignment, preview=False)
        .exclude(gallery_image=None)
        .exclude(expected_label="")
        .order_by("created_at")
        .values_list("student_id", "gallery_image_id", "true_label", "expected_label")
    )
    seen, ratings = set(), []
    for student, image, label, perceived in rows:
        if (student, image) not in seen:
            seen.add((student, image))
            ratings.append((image, label, perceived))
    return perception_agreement(ratings, list(assignment.label_set.labels))
