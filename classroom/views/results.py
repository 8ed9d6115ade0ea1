"""Class results pages: per assignment, per class, projector, live JSON and CSV export.

Thin adapters: scope lookups in selectors, every number in classroom.results.
"""

import csv
import io

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.text import slugify
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from .. import results as res
from .. import selectors
from ..lab import selectors as lab_selectors
from ..results.maps import mean_maps
from ..results.within import breakdown
from ..visibility import results_visible
from .access import teacher_required


def _visible_assignment(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    if not results_visible(request.user, assignment):
        raise Http404("Results are not shared yet.")
    return assignment


@login_required
@require_GET
def assignment_results(request, public_id):
    assignment = _visible_assignment(request, public_id)
    scope = res.assignment_scope(assignment, request.user)
    results = res.compute(scope)
    return render(
        request,
        "classroom/results.html",
        {
            "assignment": assignment,
            "classroom": assignment.classroom,
            "results": results,
            "data": res.as_dict(results),
            "min_tests": settings.MIN_TESTS_PER_GROUP,
            "group_maps": _group_maps(scope, results),
            "within": breakdown(scope, [r.model for r in results.models], list(assignment.label_set.labels)),
            "outline": static("img/face-outline.svg"),
            **_lab_chart(assignment, request.user),
        },
    )


def _group_maps(scope, results) -> list[dict]:
    """Per model, the mean saliency map of each group (ids for the page's json_script)."""
    maps = mean_maps(scope, [r.model for r in results.models])
    return [
        {
            "model": r.model,
            "groups": [
                {
                    "map": gm,
                    "id": f"map-{i}-{j}",
                    "label": ngettext("%(group)s (%(n)s image)", "%(group)s (%(n)s images)", gm.tests)
                    % {"group": gm.group, "n": gm.tests},
                    "data": {"method": gm.method, "grid": gm.grid},
                }
                for j, gm in enumerate(maps.get(r.model.key, []))
            ],
        }
        for i, r in enumerate(results.models)
    ]


def _lab_chart(assignment, user) -> dict:
    """The lab's class chart, once the experiment has a lab (None: the page shows no chart)."""
    if not assignment.lab_enabled and not assignment.lab_models.exists():
        return {"points": None}
    return lab_selectors.chart_context(assignment, user)


@login_required
@require_GET
def classroom_results(request, public_id):
    classroom = selectors.classroom_for_member(request.user, public_id)
    assignments = list(
        classroom.assignments.filter(res.visible_assignments_q(request.user)).order_by("opens_at", "created_at")
    )
    results = res.compute(res.classroom_scope(classroom, request.user))
    return render(
        request,
        "classroom/classroom_results.html",
        {
            "classroom": classroom,
            "assignments": assignments,
            "results": results,
            "data": res.as_dict(results),
            "min_tests": settings.MIN_TESTS_PER_GROUP,
        },
    )


@teacher_required
@require_GET
def projector(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    results = res.compute(res.assignment_scope(assignment), pairs=False)
    return render(
        request,
        "classroom/projector.html",
        {
            "assignment": assignment,
            "results": results,
            "data": res.as_dict(results),
            "min_tests": settings.MIN_TESTS_PER_GROUP,
            **_lab_chart(assignment, request.user),
        },
    )


@login_required
@require_GET
def results_json(request, public_id):
    """Polled by the projector: a 304 costs one small query while nothing has changed."""
    assignment = _visible_assignment(request, public_id)
    scope = res.assignment_scope(assignment, request.user)
    etag = f'"{res.version(scope)}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse(res.as_dict(res.compute(scope, pairs=False)))
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _csv(assignment) -> str:
    labels = list(assignment.label_set.labels)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(res.EXPORT_FIELDS + [f"p_{label}" for label in labels])
    for row in res.export_rows(assignment):
        probs = row["probabilities"]
        face = "" if row["face_found"] is None else str(row["face_found"]).lower()
        writer.writerow([row[f] for f in res.EXPORT_FIELDS[:-1]] + [face] + [probs.get(label, "") for label in labels])
    return out.getvalue()


@teacher_required
@require_GET
def export_csv(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    # One experiment's tests (a few thousand rows at most): built in memory, read from the database in chunks.
    response = HttpResponse(_csv(assignment), content_type="text/csv; charset=utf-8")
    name = slugify(assignment.title)[:60] or "experiment"
    response["Content-Disposition"] = f'attachment; filename="{name}-anonymised.csv"'
    return response


@teacher_required
@require_GET
def answers_csv(request, public_id):
    """Students' predictions and reflections, anonymised like the tests' export."""
    assignment = selectors.assignment_for(request.user, public_id)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=res.ANSWER_FIELDS)
    writer.writeheader()
    writer.writerows(res.answer_rows(assignment))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = slugify(assignment.title)[:60] or "experiment"
    response["Content-Disposition"] = f'attachment; filename="{name}-answers-anonymised.csv"'
    return response
