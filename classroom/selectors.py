"""Role-scoped lookups and class-result aggregates.

Every lookup by id is scoped to what the user may see, and raises Http404
otherwise: a student of another class cannot even learn that a thing exists.
"""

from django.db.models import Count
from django.http import Http404
from django.utils import timezone

from .models import Assignment, Classroom, Submission, User

# Class-result aggregates live in classroom.results; re-exported for callers of the old name.
from .results import GroupAccuracy, ModelResults, class_results  # noqa: F401


def classes_for(user: User):
    if user.is_teacher:
        return Classroom.objects.filter(teacher=user).annotate(n_students=Count("enrollments", distinct=True))
    return Classroom.objects.filter(enrollments__student=user)


def classroom_for_teacher(user: User, public_id) -> Classroom:
    classroom = Classroom.objects.filter(public_id=public_id, teacher=user).first() if user.is_teacher else None
    if classroom is None:
        raise Http404("No such class.")
    return classroom


def classroom_for_member(user: User, public_id) -> Classroom:
    if user.is_teacher:
        return classroom_for_teacher(user, public_id)
    classroom = Classroom.objects.filter(public_id=public_id, enrollments__student=user).first()
    if classroom is None:
        raise Http404("No such class.")
    return classroom


def assignment_for(user: User, public_id) -> Assignment:
    qs = Assignment.objects.select_related("classroom", "label_set").filter(public_id=public_id)
    if user.is_teacher:
        qs = qs.filter(classroom__teacher=user)
    else:
        qs = qs.filter(classroom__enrollments__student=user)
    assignment = qs.first()
    if assignment is None:
        raise Http404("No such experiment.")
    return assignment


def submission_for(user: User, public_id) -> Submission:
    qs = Submission.objects.select_related("assignment__classroom", "assignment__label_set").filter(public_id=public_id)
    qs = qs.filter(assignment__classroom__teacher=user) if user.is_teacher else qs.filter(student=user)
    submission = qs.first()
    if submission is None:
        raise Http404("No such submission.")
    return submission


def student_in_class(classroom: Classroom, student_id: int) -> User:
    student = User.objects.filter(pk=student_id, role=User.Role.STUDENT, enrollments__classroom=classroom).first()
    if student is None:
        raise Http404("No such student in this class.")
    return student


def predictions_of(submission: Submission):
    return submission.predictions.select_related("model_version").order_by(
        "model_version__family", "model_version__key"
    )


def submissions_of(student: User, assignment: Assignment):
    return (
        Submission.objects.filter(assignment=assignment, student=student)
        .prefetch_related("predictions__model_version")
        .order_by("-created_at")
    )


def results_visible(user: User, assignment: Assignment, now=None) -> bool:
    if user.is_teacher:
        return True
    vis = Assignment.ResultsVisibility
    if assignment.results_visibility == vis.IMMEDIATE:
        return True
    if assignment.results_visibility == vis.AFTER_DUE:
        return assignment.due_at is not None and (now or timezone.now()) > assignment.due_at
    return assignment.results_released
