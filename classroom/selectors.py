"""Role-scoped lookups and class-result aggregates.

Every lookup by id is scoped to what the user may see, and raises Http404
otherwise: a student of another class cannot even learn that a thing exists.
"""

from dataclasses import dataclass, field

from django.db.models import Count, F, Q
from django.http import Http404
from django.utils import timezone

from inference.models import ModelVersion

from .models import Assignment, Classroom, Prediction, Submission, User


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


# --- Class results -----------------------------------------------------------


@dataclass
class GroupAccuracy:
    group: str
    total: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None


@dataclass
class ModelResults:
    model: ModelVersion
    done: int = 0
    pending: int = 0
    failed: int = 0
    no_face: int = 0
    predicted: list[tuple[str, int]] = field(default_factory=list)  # (label, count) in label-set order
    groups: list[GroupAccuracy] = field(default_factory=list)

    @property
    def with_expected(self) -> int:
        return sum(g.total for g in self.groups)

    @property
    def accuracy(self) -> float | None:
        total = self.with_expected
        return sum(g.correct for g in self.groups) / total if total else None


def class_results(assignment: Assignment) -> list[ModelResults]:
    """Per model: predicted-label counts and accuracy per expected group.

    Four GROUP BY queries whatever the number of submissions; Python only
    arranges the aggregated rows.
    """
    models = list(assignment.model_versions.select_related("label_set"))
    by_id = {m.pk: ModelResults(model=m) for m in models}
    preds = Prediction.objects.filter(submission__assignment=assignment)
    done = preds.filter(status=Prediction.Status.DONE)

    for row in preds.values("model_version_id", "status").annotate(n=Count("id")):
        res = by_id.get(row["model_version_id"])
        if res is not None:
            key = {"done": "done", "failed": "failed"}.get(row["status"], "pending")
            setattr(res, key, getattr(res, key) + row["n"])

    predicted: dict[int, dict[str, int]] = {}
    for row in done.values("model_version_id", "label").annotate(n=Count("id")):
        predicted.setdefault(row["model_version_id"], {})[row["label"]] = row["n"]

    expected: dict[int, dict[str, tuple[int, int]]] = {}
    rows = (
        done.exclude(submission__expected_label="")
        .values("model_version_id", group=F("submission__expected_label"))
        .annotate(n=Count("id"), correct=Count("id", filter=Q(label=F("submission__expected_label"))))
    )
    for row in rows:
        expected.setdefault(row["model_version_id"], {})[row["group"]] = (row["n"], row["correct"])

    for row in done.filter(face_found=False).values("model_version_id").annotate(n=Count("id")):
        if row["model_version_id"] in by_id:
            by_id[row["model_version_id"]].no_face = row["n"]

    for mid, res in by_id.items():
        labels = res.model.label_set.labels
        counts = predicted.get(mid, {})
        res.predicted = [(label, counts.get(label, 0)) for label in labels]
        groups = expected.get(mid, {})
        res.groups = [GroupAccuracy(g, *groups[g]) for g in labels if g in groups]
    return [by_id[m.pk] for m in models]
