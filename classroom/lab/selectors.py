"""Reads for the lab: a student's (team's) models with their held-out numbers, and the class
chart: every model of the experiment, its training mix against the gap between the groups
it gets most and least right."""

from dataclasses import dataclass

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext

from inference.models import ModelVersion
from training.models import TrainingJob

from ..models import Assignment, LabModel, User
from ..results.stats import wilson_interval
from ..selectors import CardRow, card_rows, lab_models_of


def mix_words(counts: dict[str, int]) -> str:
    """ "Group A 210, others 21 each" or "60 of each group" or every count."""
    values = list(counts.values())
    if values and len(set(values)) == 1:
        return gettext("%(n)s of each group") % {"n": _n(values[0])}
    top = max(counts, key=counts.get)
    rest = [n for g, n in counts.items() if g != top]
    if rest and len(set(rest)) == 1:
        if rest[0]:
            return gettext("%(group)s %(n)s (%(times)s×), the others %(each)s each") % {
                "group": top,
                "n": _n(counts[top]),
                "times": f"{counts[top] / rest[0]:.0f}",
                "each": _n(rest[0]),
            }
        return gettext("%(group)s %(n)s, the others %(each)s each") % {"group": top, "n": _n(counts[top]), "each": 0}
    return ", ".join(f"{g} {_n(n)}" for g, n in counts.items())


def _n(n: int) -> str:
    return formats.number_format(n, force_grouping=True)


@dataclass
class ChartPoint:
    key: str
    label: str  # the mix in words: never the student
    reference: bool  # one of the experiment's own models (the teacher's), not a student's
    mine: bool  # the viewing student's (or their team's)
    largest_share: float  # x: share of the largest group in the training mix
    largest_group: str
    gap: float  # y: best group's held-out accuracy minus the worst's
    best: CardRow
    worst: CardRow
    overall: float | None
    overall_low: float | None
    overall_high: float | None
    clear: bool  # the best and worst groups' intervals do not overlap
    name: str = ""  # the model's name: shown to the teacher and to its own students only


def _point(model: ModelVersion, *, reference: bool, mine: bool, name: str) -> ChartPoint | None:
    counts = model.composition or {}
    total = sum(counts.values())
    groups = [g for g in card_rows(model) if g.accuracy is not None and (g.n or 0) >= settings.MIN_TESTS_PER_GROUP]
    if not total or len(groups) < 2:
        return None
    best = max(groups, key=lambda g: g.accuracy)
    worst = min(groups, key=lambda g: g.accuracy)
    largest = max(counts, key=counts.get)
    n_test = sum(g.n for g in groups)
    overall = (model.metrics or {}).get("overall_accuracy")
    low, high = wilson_interval(round(overall * n_test), n_test) if overall is not None else (None, None)
    return ChartPoint(
        key=model.key,
        label=mix_words(counts),
        reference=reference,
        mine=mine,
        largest_share=counts[largest] / total,
        largest_group=largest,
        gap=best.accuracy - worst.accuracy,
        best=best,
        worst=worst,
        overall=overall,
        overall_low=low,
        overall_high=high,
        clear=(worst.high is not None and best.low is not None and worst.high < best.low),
        name=name,
    )


def class_chart(assignment: Assignment, viewer: User | None = None, *, names: bool = False) -> list[ChartPoint]:
    """One point per finished model: the experiment's models, then the class's lab models.
    `names`: show the names students gave their models (the teacher's lab page only: a name
    chosen by a student may be their own, and results pages go on the projector)."""
    mine = set()
    if viewer is not None and viewer.is_student:
        mine = {m.pk for m in lab_models_of(assignment, viewer)}
    teacher = names and viewer is not None and viewer.pk == assignment.classroom.teacher_id
    points = []
    for model in assignment.model_versions.select_related("label_set").order_by("family", "key"):
        p = _point(model, reference=True, mine=False, name=model.name)
        if p:
            points.append(p)
    done = (
        LabModel.objects.filter(assignment=assignment, job__status=TrainingJob.Status.DONE, job__result__isnull=False)
        .select_related("job__result__label_set")
        .order_by("created_at")
    )
    for lab_model in done:
        own = lab_model.pk in mine
        p = _point(lab_model.job.result, reference=False, mine=own, name=lab_model.name if own or teacher else "")
        if p:
            points.append(p)
    return points


def fairest(points: list[ChartPoint], n: int = 5) -> list[ChartPoint]:
    """Smallest gap first; overall accuracy breaks ties."""
    return sorted(points, key=lambda p: (p.gap, -(p.overall or 0)))[:n]


def chart_data(points: list[ChartPoint]) -> dict:
    """For the page's script (Chart.js) and the API."""
    return {
        "points": [
            {
                "key": p.key,
                "label": p.label,
                "reference": p.reference,
                "mine": p.mine,
                "largest_share": p.largest_share,
                "largest_group": p.largest_group,
                "gap": p.gap,
                "best": {
                    "group": p.best.group,
                    "accuracy": p.best.accuracy,
                    "low": p.best.low,
                    "high": p.best.high,
                    "n": p.best.n,
                },
                "worst": {
                    "group": p.worst.group,
                    "accuracy": p.worst.accuracy,
                    "low": p.worst.low,
                    "high": p.worst.high,
                    "n": p.worst.n,
                },
                "overall": p.overall,
                "overall_low": p.overall_low,
                "overall_high": p.overall_high,
                "clear": p.clear,
                "name": p.name,
            }
            for p in points
        ]
    }


@dataclass
class MyLabModel:
    lab_model: LabModel
    job: TrainingJob
    model: ModelVersion | None
    groups: list[CardRow]  # its held-out numbers, as on its card
    place: int  # in the training queue; 0 once running or finished


def my_models(assignment: Assignment, student: User) -> list[MyLabModel]:
    from .services import place_in_queue

    rows = []
    for m in lab_models_of(assignment, student).select_related("job__result__label_set"):
        model = m.job.result
        rows.append(MyLabModel(m, m.job, model, card_rows(model) if model else [], place_in_queue(m)))
    return rows


def chart_context(assignment: Assignment, viewer: User, *, names: bool = False) -> dict:
    """What the chart partial (classroom/lab/_chart.html) needs."""
    points = class_chart(assignment, viewer, names=names)
    return {"points": points, "fairest": fairest(points), "chart": chart_data(points)}
