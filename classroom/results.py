"""Class results: every number on the dashboards, from SQL aggregates.

A *scope* says which stored tests to add up (one assignment, or a whole class
across the assignments the viewer may see). `compute()` answers it with one
pass over the scope's tests (plus a query for the models and one for the time
span), whatever their number: an inner query turns each submission into one
row with a short code per model, and two GROUP BYs over it give

1. the joint counts: per combination of expected group, "is it the viewer's",
   and every model's status, face-found flag and guess, how many submissions
   (disagreement between models comes from the same rows: no self-join);
2. the trend: per time bucket and expected group, how many submissions each
   model answered right or wrong.

Python only arranges the aggregated rows (a few hundred at most) into
tables: accuracy with Wilson intervals, confusion matrices, distributions,
disparity, disagreement, cumulative trends, face-not-found rates. It never
sees an individual prediction, and nothing here knows who submitted what
except the viewer's own counts.
"""

import math
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.db import connection
from django.db.models import Case, CharField, Count, DateTimeField, F, Max, Min, Q, Value, When
from django.db.models.functions import Concat, Trunc
from django.utils import timezone

from inference.models import ModelVersion

from .models import Assignment, Classroom, Prediction, Submission, User

Z_95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson_interval(correct: int, total: int, z: float = Z_95) -> tuple[float, float] | tuple[None, None]:
    """95% Wilson score interval for a proportion; (None, None) without data."""
    if total <= 0:
        return None, None
    p = correct / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


# --- Scopes -------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which stored tests a results view adds up, and for whom.

    The same filter twice: seen from Submission and from Prediction.
    """

    submissions: Q  # filter on Submission
    predictions: Q  # the same, on Prediction
    models: Q  # filter on ModelVersion: the models compared in this scope
    viewer_student: User | None = None  # a student sees their own numbers beside the class's


def visible_assignments_q(user: User, now=None, prefix: str = "") -> Q:
    """Assignments whose class results `user` may see (same rule as selectors.results_visible)."""
    if user.is_teacher:
        return Q()
    vis = Assignment.ResultsVisibility
    now = now or timezone.now()
    return (
        Q(**{f"{prefix}results_visibility": vis.IMMEDIATE})
        | Q(**{f"{prefix}results_visibility": vis.AFTER_DUE, f"{prefix}due_at__lt": now})
        | Q(**{f"{prefix}results_visibility": vis.ON_RELEASE, f"{prefix}results_released": True})
    )


def assignment_scope(assignment: Assignment, viewer: User | None = None) -> Scope:
    """Callers check selectors.results_visible first, as for the page."""
    return Scope(
        submissions=Q(assignment=assignment),
        predictions=Q(submission__assignment=assignment),
        models=Q(assignments=assignment),
        viewer_student=viewer if viewer is not None and viewer.is_student else None,
    )


def classroom_scope(classroom: Classroom, viewer: User, now=None) -> Scope:
    """Every assignment of a class; a student only adds up those whose results are shared.

    One small query lists the assignments: filtering tests by a literal list of
    assignment ids lets the database walk the (assignment, ...) index instead of
    joining through the assignment table.
    """
    ids = list(classroom.assignments.filter(visible_assignments_q(viewer, now)).order_by().values_list("id", flat=True))
    return Scope(
        submissions=Q(assignment_id__in=ids),
        predictions=Q(submission__assignment_id__in=ids),
        models=Q(assignments__in=ids),
        viewer_student=viewer if viewer.is_student else None,
    )


# --- Result structures ------------------------------------------------------------


@dataclass
class GroupAccuracy:
    """One expected group, for one model: tests where the student said which group they expected."""

    group: str
    total: int = 0  # answered tests with this expected group
    correct: int = 0  # ...where the model guessed that group
    no_face: int = 0  # ...where no face was found
    mine_total: int = 0
    mine_correct: int = 0

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.correct, self.total)

    @cached_property
    def interval(self) -> tuple[float, float] | tuple[None, None]:
        return wilson_interval(self.correct, self.total)

    @property
    def low(self) -> float | None:
        return self.interval[0]

    @property
    def high(self) -> float | None:
        return self.interval[1]

    @property
    def face_not_found_rate(self) -> float | None:
        return _ratio(self.no_face, self.total)

    @property
    def mine_accuracy(self) -> float | None:
        return _ratio(self.mine_correct, self.mine_total)


@dataclass
class Disparity:
    """The best- and worst-served groups (among groups with at least one test)."""

    best: GroupAccuracy
    worst: GroupAccuracy

    @property
    def gap(self) -> float:
        return self.best.accuracy - self.worst.accuracy

    @property
    def ratio(self) -> float | None:
        """Lowest accuracy divided by highest (1 = equal; 0.8 is the usual "four-fifths" warning line)."""
        return self.worst.accuracy / self.best.accuracy if self.best.accuracy else None

    @property
    def clear(self) -> bool:
        """True when the two 95% intervals do not overlap: more data is unlikely to close the gap."""
        return self.worst.high < self.best.low


@dataclass
class ConfusionRow:
    group: str  # expected
    cells: list[int]  # guesses, in label order
    total: int = 0

    @property
    def shares(self) -> list[float | None]:
        return [_ratio(n, self.total) for n in self.cells]


@dataclass
class TrendPoint:
    """Cumulative numbers up to the end of one time bucket."""

    start: object  # aware datetime: the bucket's start
    tests: int  # answered tests with an expected group, so far
    groups: list[tuple[int, int]]  # (total, correct) so far, per group in label order

    @cached_property
    def accuracies(self) -> list[float | None]:
        return [_ratio(c, t) for t, c in self.groups]

    @property
    def gap(self) -> float | None:
        accs = [a for a in self.accuracies if a is not None]
        return max(accs) - min(accs) if len(accs) >= 2 else None


@dataclass
class ModelResults:
    """One model's numbers in a scope. (Cached properties are read only once compute() has filled the counts.)"""

    model: ModelVersion
    labels: list[str] = field(default_factory=list)
    done: int = 0
    pending: int = 0  # waiting or running
    failed: int = 0
    no_face: int = 0  # answered, but no face was found (the model looked at the centre)
    no_face_unknown_group: int = 0
    unknown_group: int = 0  # answered without an expected group
    predicted: list[tuple[str, int]] = field(default_factory=list)  # all answered tests, label order
    groups: list[GroupAccuracy] = field(default_factory=list)  # every label, in order
    confusion: list[ConfusionRow] = field(default_factory=list)
    mine_done: int = 0
    trend: list[TrendPoint] = field(default_factory=list)

    @property
    def with_expected(self) -> int:
        return sum(g.total for g in self.groups)

    @property
    def correct(self) -> int:
        return sum(g.correct for g in self.groups)

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.correct, self.with_expected)

    @cached_property
    def interval(self):
        return wilson_interval(self.correct, self.with_expected)

    @property
    def mine_total(self) -> int:
        return sum(g.mine_total for g in self.groups)

    @property
    def mine_correct(self) -> int:
        return sum(g.mine_correct for g in self.groups)

    @property
    def mine_accuracy(self) -> float | None:
        return _ratio(self.mine_correct, self.mine_total)

    @property
    def expected(self) -> list[tuple[str, int]]:
        """How many answered tests expected each group."""
        return [(g.group, g.total) for g in self.groups]

    @property
    def predicted_known(self) -> list[tuple[str, int]]:
        """Guesses among the tests with an expected group (the confusion matrix's column sums)."""
        return [(label, sum(row.cells[j] for row in self.confusion)) for j, label in enumerate(self.labels)]

    @property
    def tested_groups(self) -> list[GroupAccuracy]:
        return [g for g in self.groups if g.total]

    @cached_property
    def disparity(self) -> Disparity | None:
        tested = self.tested_groups
        if len(tested) < 2:
            return None
        # Ties: the first in label order, so the answer is stable.
        best = max(tested, key=lambda g: g.accuracy)
        worst = min(tested, key=lambda g: g.accuracy)
        return Disparity(best=best, worst=worst)

    @property
    def face_not_found_rate(self) -> float | None:
        return _ratio(self.no_face, self.done)

    @cached_property
    def over_represented(self) -> str | None:
        """The group this model saw most of in training, if its training mix was unequal."""
        comp = {g: n for g, n in (self.model.composition or {}).items() if g in self.labels}
        if len(comp) < 2 or max(comp.values()) == min(comp.values()):
            return None
        return max(self.labels, key=lambda g: comp.get(g, -1))


@dataclass
class PairGroup:
    group: str
    a_only: int = 0  # model A guesses this group, model B guesses another
    b_only: int = 0


@dataclass
class PairResults:
    """Two models on the same photos."""

    a: ModelResults
    b: ModelResults
    both: int = 0  # photos both models answered
    agree: int = 0
    groups: list[PairGroup] = field(default_factory=list)
    # Where they disagree and the expected group is known: who was right?
    disagree_known: int = 0
    a_right: int = 0
    b_right: int = 0

    @property
    def disagree(self) -> int:
        return self.both - self.agree

    @property
    def agreement(self) -> float | None:
        return _ratio(self.agree, self.both)

    @property
    def neither_right(self) -> int:
        return self.disagree_known - self.a_right - self.b_right

    @property
    def highlight(self) -> str | None:
        """The over-represented group of whichever model had an unequal training mix."""
        return self.a.over_represented or self.b.over_represented


@dataclass
class Results:
    models: list[ModelResults]
    pairs: list[PairResults]
    granularity: str | None = None  # trend bucket: minute, hour, day or week
    first: object = None
    last: object = None
    shows_mine: bool = False

    @property
    def by_key(self) -> dict[str, ModelResults]:
        return {r.model.key: r for r in self.models}


# --- Queries -----------------------------------------------------------------


STEP = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}


def trend_granularity(first, last) -> str:
    """Buckets small enough to show the trend inside one lesson, few enough to read."""
    span = last - first
    if span <= timedelta(hours=2):
        return "minute"
    if span <= timedelta(days=4):
        return "hour"
    if span <= timedelta(days=180):
        return "day"
    return "week"


def compute(scope: Scope, *, trend: bool = True, pairs: bool = True) -> Results:
    """All results of a scope in three queries, whatever the number of tests:
    the models, the time span, and one GROUP BY pass for everything else."""
    models = list(ModelVersion.objects.filter(scope.models).distinct().select_related("label_set"))
    by_id: dict[int, ModelResults] = {}
    for m in models:
        labels = list(m.label_set.labels)
        n = len(labels)
        by_id[m.pk] = ModelResults(
            model=m,
            labels=labels,
            predicted=[(g, 0) for g in labels],
            groups=[GroupAccuracy(g) for g in labels],
            confusion=[ConfusionRow(g, [0] * n) for g in labels],
        )
    results = Results(models=[by_id[m.pk] for m in models], pairs=[], shows_mine=scope.viewer_student is not None)
    if not models:
        return results
    span = Submission.objects.filter(scope.submissions).aggregate(first=Min("created_at"), last=Max("created_at"))
    if span["first"] is None:
        return results
    results.first, results.last = span["first"], span["last"]
    if trend:
        results.granularity = trend_granularity(results.first, results.last)
    _fill(scope, by_id, results, pairs=pairs)
    return results


# Each prediction as one short string: status (d/f/p), face found (t/f/n), then the guess.
_STATUS_CODE = Case(
    When(predictions__status=Prediction.Status.DONE, then=Value("d")),
    When(predictions__status=Prediction.Status.FAILED, then=Value("f")),
    default=Value("p"),
)
_FACE_CODE = Case(
    When(predictions__face_found=True, then=Value("t")),
    When(predictions__face_found=False, then=Value("f")),
    default=Value("n"),
)
_COUNTS, _TREND = 0, 1  # the two kinds of rows _rows() returns


# The group a test is scored against: a gallery image's true label where there is one
# (known, so no self-report is needed), else the group the student expected.
_REFERENCE = Case(When(~Q(true_label=""), then=F("true_label")), default=F("expected_label"))


def _rows(scope: Scope, model_ids: list[int], granularity: str | None):
    """One pass over the scope's submissions, two GROUP BYs over it.

    The inner query turns each submission's predictions into one row: its
    expected group, whether it is the viewer's, its time bucket, and one short
    code per model (status, face found, guess). Then, in the same statement:

    - _COUNTS rows: how many submissions share each combination of expected
      group, viewer flag and every model's code (a few hundred combinations);
      every number of the dashboards, disagreement included, sums these;
    - _TREND rows: per time bucket and expected group, how many submissions each
      model answered right ("c") or wrong ("w").

    Plain SQL around the ORM's inner query (a CTE and UNION ALL), so it runs on
    PostgreSQL and SQLite alike.
    """
    code = Concat(_STATUS_CODE, _FACE_CODE, "predictions__label", output_field=CharField())
    per_model = {f"m{i}": Max(code, filter=Q(predictions__model_version_id=mid)) for i, mid in enumerate(model_ids)}
    student = scope.viewer_student
    mine = Case(When(student_id=student.pk, then=Value(1)), default=Value(0)) if student else Value(0)
    bucket = Trunc("created_at", granularity) if granularity else Value(None, output_field=DateTimeField())
    inner = (
        Submission.objects.filter(scope.submissions)
        .order_by()
        .values("id")
        .annotate(e=_REFERENCE, mine=mine, b=bucket, **per_model)
    )
    sql, params = inner.query.sql_with_params()
    cols = ", ".join(per_model)
    statement = (
        f"WITH joint AS ({sql}) SELECT {_COUNTS}, e, mine, NULL, {cols}, COUNT(*) FROM joint GROUP BY e, mine, {cols}"
    )
    if granularity:
        # per model: "c" answered right, "w" answered wrong, NULL not answered
        flags = ", ".join(
            f"CASE WHEN substr({m}, 1, 1) = 'd' THEN CASE WHEN substr({m}, 3) = e THEN 'c' ELSE 'w' END END AS {m}"
            for m in per_model
        )
        statement += (
            f" UNION ALL SELECT {_TREND}, e, 0, b, {cols}, COUNT(*)"
            f" FROM (SELECT e, b, {flags} FROM joint WHERE e <> '') AS flagged GROUP BY e, b, {cols}"
        )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def _bucket_start(value):
    """A time bucket from raw SQL: SQLite gives text, PostgreSQL a naive datetime (both local time)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _fill(scope: Scope, by_id: dict[int, ModelResults], results: Results, *, pairs: bool) -> None:
    model_ids = list(by_id)
    order = {mid: i for i, mid in enumerate(model_ids)}
    index = {mid: {g: i for i, g in enumerate(by_id[mid].labels)} for mid in model_ids}
    pair_results: dict[tuple[int, int], PairResults] = {}
    trend: dict[int, dict] = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: [0, 0])))
    for row in _rows(scope, model_ids, results.granularity):
        kind, expected, mine, bucket, codes, n = row[0], row[1], row[2], row[3], row[4:-1], row[-1]
        if kind == _TREND:
            start = _bucket_start(bucket)
            for mid, flag in zip(model_ids, codes, strict=True):
                if flag is not None and expected in index[mid]:
                    cell = trend[mid][start][expected]
                    cell[0] += n
                    cell[1] += n if flag == "c" else 0
            continue
        mine_n = n if mine else 0
        answered = []  # (model id, guess) of the models that answered this combination
        for mid, code in zip(model_ids, codes, strict=True):
            if code is None:
                continue  # this model is not part of that submission's experiment
            res, status, face, label = by_id[mid], code[0], code[1], code[2:]
            if status == "f":
                res.failed += n
                continue
            if status != "d":
                res.pending += n
                continue
            answered.append((mid, label))
            res.done += n
            res.mine_done += mine_n
            no_face = n if face == "f" else 0
            res.no_face += no_face
            j = index[mid].get(label)  # None: a label outside the model's list, counted as answered only
            if j is not None:
                res.predicted[j] = (label, res.predicted[j][1] + n)
            i = index[mid].get(expected) if expected else None
            if i is None:
                res.unknown_group += n
                res.no_face_unknown_group += no_face
                continue
            g = res.groups[i]
            g.total += n
            g.no_face += no_face
            g.mine_total += mine_n
            if j is not None:
                res.confusion[i].cells[j] += n
            if j == i:
                g.correct += n
                g.mine_correct += mine_n
        if pairs and len(answered) >= 2:
            _add_pairs(pair_results, by_id, index, answered, expected, n)
    for res in by_id.values():
        for row in res.confusion:
            row.total = sum(row.cells)
    results.pairs = [pair_results[k] for k in sorted(pair_results, key=lambda k: (order[k[0]], order[k[1]]))]
    for mid, buckets in trend.items():
        _running_totals(by_id[mid], buckets, index[mid])


def _running_totals(res: ModelResults, buckets: dict, index: dict[str, int]) -> None:
    """Trend points: per group, tests and right answers up to the end of each bucket."""
    totals = [[0, 0] for _ in res.labels]
    for start in sorted(buckets):
        for group, (n, correct) in buckets[start].items():
            totals[index[group]][0] += n
            totals[index[group]][1] += correct
        res.trend.append(TrendPoint(start=start, tests=sum(t for t, _ in totals), groups=[(t, c) for t, c in totals]))


def _add_pairs(pair_results, by_id, index, answered, expected, n) -> None:
    """Both models answered the same photos `n` times with these guesses."""
    for x, (a_id, a_label) in enumerate(answered):
        for b_id, b_label in answered[x + 1 :]:
            a, b = by_id[a_id], by_id[b_id]
            if a.labels != b.labels:
                continue  # different lists of groups: agreement means nothing
            pair = pair_results.get((a_id, b_id))
            if pair is None:
                pair = pair_results[(a_id, b_id)] = PairResults(a=a, b=b, groups=[PairGroup(g) for g in a.labels])
            pair.both += n
            if a_label == b_label:
                pair.agree += n
                continue
            groups = index[a_id]
            if a_label in groups:
                pair.groups[groups[a_label]].a_only += n
            if b_label in groups:
                pair.groups[groups[b_label]].b_only += n
            if expected and expected in groups:
                pair.disagree_known += n
                pair.a_right += n if a_label == expected else 0
                pair.b_right += n if b_label == expected else 0


def class_results(assignment: Assignment) -> list[ModelResults]:
    """Per model results of one assignment (no trend or pairs)."""
    return compute(assignment_scope(assignment), trend=False, pairs=False).models


# --- Presentation helpers shared by pages, projector and API -------------------------


def thin(points: list, limit: int = 24) -> list:
    """At most `limit` evenly spaced points, always keeping the last (running totals stay exact)."""
    n = len(points)
    if n <= limit:
        return list(points)
    return [points[i] for i in sorted({round((k + 1) * n / limit) - 1 for k in range(limit)})]


def _group_dict(g: GroupAccuracy, shows_mine: bool) -> dict:
    return {
        "group": g.group,
        "total": g.total,
        "correct": g.correct,
        "accuracy": g.accuracy,
        "low": g.low,
        "high": g.high,
        "no_face": g.no_face,
        "face_not_found_rate": g.face_not_found_rate,
        "mine_total": g.mine_total if shows_mine else None,
        "mine_correct": g.mine_correct if shows_mine else None,
    }


def model_dict(r: ModelResults, shows_mine: bool = False) -> dict:
    from django.urls import reverse

    d = r.disparity
    predicted_known = dict(r.predicted_known)
    low, high = r.interval
    return {
        "key": r.model.key,
        "name": r.model.name,
        "model_card": reverse("model_card", args=[r.model.key]),
        "synthetic": r.model.synthetic,
        "labels": r.labels,
        "done": r.done,
        "pending": r.pending,
        "failed": r.failed,
        "no_face": r.no_face,
        "face_not_found_rate": r.face_not_found_rate,
        "unknown_group": r.unknown_group,
        "no_face_unknown_group": r.no_face_unknown_group,
        "with_expected": r.with_expected,
        "correct": r.correct,
        "accuracy": r.accuracy,
        "low": low,
        "high": high,
        "over_represented": r.over_represented,
        "groups": [_group_dict(g, shows_mine) for g in r.groups],
        "distribution": [
            {"group": label, "predicted": n, "expected": g.total, "predicted_known": predicted_known[label]}
            for (label, n), g in zip(r.predicted, r.groups, strict=True)
        ],
        "confusion": [{"expected": row.group, "total": row.total, "counts": row.cells} for row in r.confusion],
        "disparity": None
        if d is None
        else {
            "best": d.best.group,
            "worst": d.worst.group,
            "best_accuracy": d.best.accuracy,
            "worst_accuracy": d.worst.accuracy,
            "gap": d.gap,
            "ratio": d.ratio,
            "clear": d.clear,
        },
        "trend": [
            {"start": p.start.isoformat(), "tests": p.tests, "accuracy": p.accuracies, "gap": p.gap} for p in r.trend
        ],
        "mine": None
        if not shows_mine
        else {"done": r.mine_done, "with_expected": r.mine_total, "correct": r.mine_correct},
    }


def pair_dict(p: PairResults) -> dict:
    return {
        "a": p.a.model.key,
        "b": p.b.model.key,
        "both": p.both,
        "agree": p.agree,
        "agreement": p.agreement,
        "highlight": p.highlight,
        "groups": [{"group": g.group, "a_only": g.a_only, "b_only": g.b_only} for g in p.groups],
        "disagree_known": p.disagree_known,
        "a_right": p.a_right,
        "b_right": p.b_right,
        "neither_right": p.neither_right,
    }


def as_dict(results: Results) -> dict:
    """Plain JSON-ready data: the page's charts, the projector and the API all read this."""
    return {
        "granularity": results.granularity,
        "first": results.first.isoformat() if results.first else None,
        "last": results.last.isoformat() if results.last else None,
        "shows_mine": results.shows_mine,
        "models": [model_dict(r, results.shows_mine) for r in results.models],
        "pairs": [pair_dict(p) for p in results.pairs],
    }


def version(scope: Scope) -> str:
    """Changes whenever a test is added or answered: an ETag for live views (one small query)."""
    # No COUNT(id): everything this reads is in prediction_results_idx (an index-only scan).
    agg = Prediction.objects.filter(scope.predictions).aggregate(
        n=Count("*"), final=Count("status", filter=Q(status__in=Prediction.FINAL)), last=Max("finished_at")
    )
    last = agg["last"].isoformat() if agg["last"] else "-"
    return f"{agg['n']}-{agg['final']}-{last}"


# --- Export ---------------------------------------------------------------------

EXPORT_FIELDS = [
    "test", "student", "submitted_at", "expected_group", "known_group", "model", "status", "guess", "face_found",
]  # fmt: skip


def _pseudonym(used: set) -> str:
    while True:
        name = "S-" + secrets.token_hex(3)
        if name not in used:
            used.add(name)
            return name


def export_rows(assignment: Assignment):
    """One anonymised row per prediction, oldest test first (a generator over one query).

    No names, usernames or ids: each student gets a random pseudonym that is
    new for every export, each test a number. Notes are left out: they are
    free text and may name people.
    """
    labels = list(assignment.label_set.labels)
    rows = (
        Prediction.objects.filter(submission__assignment=assignment)
        .values(
            "submission_id",
            "status",
            "label",
            "face_found",
            "probabilities",
            student=F("submission__student_id"),
            submitted_at=F("submission__created_at"),
            expected=F("submission__expected_label"),
            known=F("submission__true_label"),
            model=F("model_version__key"),
        )
        .order_by("submission__created_at", "submission_id", "model_version__key")
    )
    students: dict[int, str] = {}
    used: set[str] = set()
    tests: dict[int, int] = {}
    for row in rows.iterator(chunk_size=2000):
        if row["student"] not in students:
            students[row["student"]] = _pseudonym(used)
        test = tests.setdefault(row["submission_id"], len(tests) + 1)
        probabilities = row["probabilities"] or {}
        yield {
            "test": test,
            "student": students[row["student"]],
            "submitted_at": row["submitted_at"].replace(second=0, microsecond=0).isoformat(),
            "expected_group": row["expected"],
            "known_group": row["known"],
            "model": row["model"],
            "status": row["status"],
            "guess": row["label"],
            "face_found": row["face_found"],
            "probabilities": {g: probabilities[g] for g in labels if g in probabilities},
        }
