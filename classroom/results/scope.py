"""Which stored tests a result adds up: one assignment, or a class across the assignments a viewer may see."""

from dataclasses import dataclass

from django.db.models import Q

from ..models import Assignment, Classroom, User
from ..visibility import results_shared_q


@dataclass(frozen=True)
class Scope:
    """Which stored tests a results view adds up, and for whom.

    The same filter seen from Submission, from Prediction, and from Submission through its
    predictions. Each names the assignments on every table it reads (a prediction keeps a copy of
    its submission's), so each read is a range of a results index, however large the tables grow.
    """

    submissions: Q  # filter on Submission
    predictions: Q  # the same, on Prediction (with its submission: previews never count)
    models: Q  # filter on ModelVersion: the models compared in this scope
    viewer_student: User | None = None  # a student sees their own numbers beside the class's
    answers: Q = Q()  # the same, on Submission's predictions (in the filter() of a join over them)


def visible_assignments_q(user: User, now=None, prefix: str = "") -> Q:
    """Assignments whose class results `user` may see (same rule as selectors.results_visible)."""
    return Q() if user.is_teacher else results_shared_q(now, prefix)


def assignment_scope(assignment: Assignment, viewer: User | None = None) -> Scope:
    """Callers check selectors.results_visible first, as for the page."""
    # A teacher's preview tests are never class results.
    return Scope(
        submissions=Q(assignment=assignment, preview=False),
        predictions=Q(assignment=assignment, submission__assignment=assignment, submission__preview=False),
        models=Q(assignments=assignment),
        viewer_student=viewer if viewer is not None and viewer.is_student else None,
        answers=Q(predictions__assignment=assignment),
    )


def classroom_scope(classroom: Classroom, viewer: User, now=None) -> Scope:
    """Every assignment of a class; a student only adds up those whose results are shared.

    One small query lists the assignments: filtering tests by a literal list of
    assignment ids lets the database walk the (assignment, ...) indexes instead of
    joining through the assignment table.
    """
    ids = list(classroom.assignments.filter(visible_assignments_q(viewer, now)).order_by().values_list("id", flat=True))
    return Scope(
        submissions=Q(assignment_id__in=ids, preview=False),
        predictions=Q(assignment_id__in=ids, submission__assignment_id__in=ids, submission__preview=False),
        models=Q(assignments__in=ids),
        viewer_student=viewer if viewer.is_student else None,
        answers=Q(predictions__assignment_id__in=ids),
    )
