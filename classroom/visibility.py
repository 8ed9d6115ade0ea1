"""Who may see what: the one place that scopes classes, experiments, tests and students by role.

A teacher sees their own classes and everything in them; a student sees the classes they are
enrolled in, the experiments of those classes, and only their own tests. Selectors, the API and
the class results all filter through `visible_to`; anything outside it is a 404. Whether a
student may see an experiment's class results yet is `results_shared_q`, written once.
"""

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from .models import Assignment, Classroom, GalleryImage, Prediction, Submission, User

# For each kind of object: the path to its class, and whether a student sees only their own
# (the path to its owner) rather than everything of their classes.
_PATHS: dict[type[Model], tuple[str, str | None]] = {
    Classroom: ("", None),
    Assignment: ("classroom__", None),
    GalleryImage: ("classroom__", None),
    Submission: ("assignment__classroom__", "student"),
    Prediction: ("submission__assignment__classroom__", "submission__student"),
}


def member_q(user: User, classroom_path: str = "") -> Q:
    """The filter on anything that reaches a class by `classroom_path` (e.g. "assignment__classroom__"):
    its teacher's, or its enrolled students'."""
    if user.is_teacher:
        return Q(**{f"{classroom_path}teacher": user})
    if user.is_student:
        return Q(**{f"{classroom_path}enrollments__student": user})
    return Q(pk__in=[])  # any other account sees nothing of a class


def visible_q(user: User, model: type[Model]) -> Q:
    """The filter on `model` that leaves what `user` may see."""
    classroom_path, owner_path = _PATHS[model]
    if user.is_student and owner_path:
        return Q(**{owner_path: user})
    return member_q(user, classroom_path)


def visible_to(user: User, queryset: QuerySet) -> QuerySet:
    """`queryset` narrowed to what `user` may see."""
    return queryset.filter(visible_q(user, queryset.model))


def students_of(classroom: Classroom) -> QuerySet:
    """The students enrolled in a class (a teacher reaches a student only through one of their classes)."""
    return User.objects.filter(role=User.Role.STUDENT, enrollments__classroom=classroom)


def results_shared_q(now=None, prefix: str = "") -> Q:
    """Assignments whose class results students may see now: at once, after a due date that has
    passed, or once the teacher released them. `prefix` reaches the assignment from another model."""
    vis = Assignment.ResultsVisibility
    now = now or timezone.now()
    return (
        Q(**{f"{prefix}results_visibility": vis.IMMEDIATE})
        | Q(**{f"{prefix}results_visibility": vis.AFTER_DUE, f"{prefix}due_at__lt": now})
        | Q(**{f"{prefix}results_visibility": vis.ON_RELEASE, f"{prefix}results_released": True})
    )


def results_visible(user: User, assignment: Assignment, now=None) -> bool:
    """Whether `user` may see `assignment`'s class results (teachers always; students by results_shared_q)."""
    if user.is_teacher:
        return True
    return Assignment.objects.filter(pk=assignment.pk).filter(results_shared_q(now)).exists()
