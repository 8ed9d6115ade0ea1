"""The queries: every number of a scope from one GROUP BY pass (see the package docstring)."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Case, CharField, Count, DateTimeField, F, Max, Min, Q, Value, When
from django.db.models.functions import Concat, Trunc
from django.utils import timezone

from inference.models import ModelVersion

from ..models import Assignment, Prediction, Submission
from .scope import Scope, assignment_scope
from .shapes import ConfusionRow, GroupAccuracy, ModelResults, PairGroup, PairResults, Results, TrendPoint


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
# A gallery image is already a face crop: "no face found" would mean nothing there, so only
# uploads count towards the face-not-found rate.
_FACE_CODE = Case(
    When(~Q(true_label=""), then=Value("n")),
    When(predictions__face_found=True, then=Value("t")),
    When(predictions__face_found=False, then=Value("f")),
    default=Value("n"),
)
_COUNTS, _TREND, _IMAGES = 0, 1, 2  # the three kinds of rows _rows() returns

# What an answer is evidence about: a gallery image once, however often it is tested (the same
# model gives the same answer to the same image); each upload is its own image.
_IMAGE = Case(
    When(gallery_image_id__isnull=False, then=Concat(Value("g"), "gallery_image_id")),
    default=Concat(Value("s"), "id"),
    output_field=CharField(),
)


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
      model answered right ("c") or wrong ("w");
    - _IMAGES rows: per group and model, "<distinct images answered>:<of them right>".

    Plain SQL around the ORM's inner query (a CTE and UNION ALL), so it runs on
    PostgreSQL and SQLite alike.
    """
    code = Concat(_STATUS_CODE, _FACE_CODE, "predictions__label", output_field=CharField())
    per_model = {f"m{i}": Max(code, filter=Q(predictions__model_version_id=mid)) for i, mid in enumerate(model_ids)}
    student = scope.viewer_student
    mine = Case(When(student_id=student.pk, then=Value(1)), default=Value(0)) if student else Value(0)
    bucket = Trunc("created_at", granularity) if granularity else Value(None, output_field=DateTimeField())
    inner = (
        # In one filter() with the submissions' so that the aggregates below use this join.
        Submission.objects.filter(scope.submissions & scope.answers)
        .order_by()
        .values("id")
        .annotate(e=_REFERENCE, mine=mine, b=bucket, u=_IMAGE, **per_model)
    )
    sql, params = inner.query.sql_with_params()
    cols = ", ".join(per_model)
    statement = (
        f"WITH joint AS ({sql}) SELECT {_COUNTS}, e, mine, NULL, {cols}, COUNT(*) FROM joint GROUP BY e, mine, {cols}"
    )
    # Per group and image first (one hash pass), whether each model answered it and answered it right;
    # then sums: the same numbers as COUNT(DISTINCT ...) per model, without a sort per model.
    seen = ", ".join(
        f"MAX(CASE WHEN substr({m}, 1, 1) = 'd' THEN 1 ELSE 0 END) AS a_{m}, "
        f"MAX(CASE WHEN substr({m}, 1, 1) = 'd' AND substr({m}, 3) = e THEN 1 ELSE 0 END) AS r_{m}"
        for m in per_model
    )
    images = ", ".join(f"CAST(SUM(a_{m}) AS TEXT) || ':' || CAST(SUM(r_{m}) AS TEXT)" for m in per_model)
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
    # Last: PostgreSQL types the UNION's columns from left to right, and NULL here must follow b's type.
    statement += (
        f" UNION ALL SELECT {_IMAGES}, e, 0, NULL, {images}, 0"
        f" FROM (SELECT e, {seen} FROM joint WHERE e <> '' GROUP BY e, u) AS seen GROUP BY e"
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
    starts = {}  # a bucket's start, converted once: a class's trend rows share a few dozen buckets
    for row in _rows(scope, model_ids, results.granularity):
        kind, expected, mine, bucket, codes, n = row[0], row[1], row[2], row[3], row[4:-1], row[-1]
        if kind == _IMAGES:
            for mid, cell in zip(model_ids, codes, strict=True):
                i = index[mid].get(expected)
                if i is not None:
                    group = by_id[mid].groups[i]
                    group.images, group.images_correct = (int(x) for x in cell.split(":"))
            continue
        if kind == _TREND:
            start = starts[bucket] if bucket in starts else starts.setdefault(bucket, _bucket_start(bucket))
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
            looked = n if face in "tf" else 0
            res.no_face += no_face
            res.looked += looked
            j = index[mid].get(label)  # None: a label outside the model's list, counted as answered only
            if j is not None:
                res.predicted[j] = (label, res.predicted[j][1] + n)
            i = index[mid].get(expected) if expected else None
            if i is None:
                res.unknown_group += n
                res.no_face_unknown_group += no_face
                res.looked_unknown_group += looked
                continue
            g = res.groups[i]
            g.total += n
            g.no_face += no_face
            g.looked += looked
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


def version(scope: Scope) -> str:
    """Changes whenever a test is added or answered: an ETag for live views (one small query)."""
    # No COUNT(id): everything this reads is in prediction_results_idx (an index-only scan).
    agg = Prediction.objects.filter(scope.predictions).aggregate(
        n=Count("*"), final=Count("status", filter=Q(status__in=Prediction.FINAL)), last=Max("finished_at")
    )
    last = agg["last"].isoformat() if agg["last"] else "-"
    return f"{agg['n']}-{agg['final']}-{last}"
