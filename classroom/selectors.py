"""Role-scoped lookups and class-result aggregates.

Every lookup by id is scoped to what the user may see, and raises Http404
otherwise: a student of another class cannot even learn that a thing exists.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from inference.models import ModelVersion
from training.models import TrainingJob

from .models import Assignment, AuditLog, Classroom, GalleryImage, LabModel, LabTeam, Prediction, Submission, User
from .results.stats import stored_interval
from .visibility import member_q, students_of, visible_to


def classes_for(user: User):
    classes = visible_to(user, Classroom.objects.all())
    return classes.annotate(n_students=Count("enrollments", distinct=True)) if user.is_teacher else classes


def _natural(text: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def roster(classroom: Classroom) -> list[User]:
    """The class's students as people read a list: "Student 2" before "Student 10"."""
    return sorted(classroom.students.all(), key=lambda s: (_natural(s.display_name or ""), _natural(s.username)))


def _first_or_404(queryset, message: str):
    found = queryset.first()
    if found is None:
        raise Http404(message)
    return found


def classroom_for_teacher(user: User, public_id) -> Classroom:
    if not user.is_teacher:
        raise Http404("No such class.")
    return classroom_for_member(user, public_id)


def classroom_for_member(user: User, public_id) -> Classroom:
    return _first_or_404(visible_to(user, Classroom.objects.filter(public_id=public_id)), "No such class.")


def assignment_for(user: User, public_id) -> Assignment:
    qs = Assignment.objects.select_related("classroom", "label_set").filter(public_id=public_id)
    return _first_or_404(visible_to(user, qs), "No such experiment.")


def submission_for(user: User, public_id) -> Submission:
    qs = Submission.objects.select_related("assignment__classroom", "assignment__label_set").filter(public_id=public_id)
    return _first_or_404(visible_to(user, qs), "No such submission.")


def student_in_class(classroom: Classroom, public_id) -> User:
    """A student of the class by their random public id (never the database id); else a 404."""
    return _first_or_404(students_of(classroom).filter(public_id=public_id), "No such student in this class.")


def recent_audit_entries(classroom: Classroom, limit: int = 20):
    return AuditLog.objects.filter(classroom=classroom).order_by("-created_at", "-id")[:limit]


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


def visible_models(user: User | None):
    """Every model `user` may see (cards, lists, API), by its scope: built-in models; a teacher's
    own; a class's lab models, inside that class only; and any model an experiment of the user's
    classes uses (a teacher's own model is seen by their students through the experiment)."""
    S = ModelVersion.Scope
    if user is None or not user.is_authenticated:
        return ModelVersion.objects.none()
    lab = Q(scope=S.CLASS) & member_q(user, "training_jobs__lab_model__assignment__classroom__")
    own = Q(scope=S.TEACHER, created_by=user) if user.is_teacher else Q(pk__in=[])
    used = member_q(user, "assignments__classroom__")
    ids = ModelVersion.objects.filter(lab | own | used).values("pk")
    return ModelVersion.objects.filter(Q(scope=S.BUILTIN) | Q(pk__in=ids))


def usable_models(user: User | None):
    """The models a teacher may put in an experiment: built-in ones and their own (with no user:
    built-in only). A class's lab models join their students' tests through the lab instead."""
    S = ModelVersion.Scope
    mine = Q(scope=S.TEACHER, created_by=user) if user is not None and user.is_teacher else Q(pk__in=[])
    return ModelVersion.objects.filter(Q(scope=S.BUILTIN) | mine, active=True).select_related("label_set")


def models_by_keys(user: User, keys: list[str]) -> list[ModelVersion]:
    """Models named by key, in the order given; unknown or unusable keys are a ValueError."""
    found = {m.key: m for m in usable_models(user).filter(key__in=keys)}
    missing = [k for k in keys if k not in found]
    if missing:
        raise ValueError(gettext("No such model: %(keys)s.") % {"keys": ", ".join(missing)})
    return [found[k] for k in dict.fromkeys(keys)]


def lab_team_of(assignment: Assignment, student: User) -> LabTeam | None:
    return LabTeam.objects.filter(assignment=assignment, members=student).first()


def lab_models_of(assignment: Assignment, student: User):
    """The lab models of a student's team and their own from before it (or only their own,
    without a team), oldest first."""
    team = lab_team_of(assignment, student)
    qs = LabModel.objects.filter(assignment=assignment).select_related("job", "job__result")
    own = Q(trained_by=student, team=None)
    return qs.filter(Q(team=team) | own) if team else qs.filter(own)


def lab_models_ready(assignment: Assignment, student: User) -> list[ModelVersion]:
    """Finished lab models: they answer this student's tests beside the experiment's models."""
    if not assignment.lab_enabled:
        return []
    done = lab_models_of(assignment, student).filter(job__status=TrainingJob.Status.DONE, job__result__isnull=False)
    return [m.job.result for m in done]


# --- Test gallery ---------------------------------------------------------------


def class_gallery(classroom: Classroom):
    return GalleryImage.objects.filter(classroom=classroom)


def gallery_photos(classroom_public_id: str) -> list[tuple[str, str]]:
    """(stored file, group) of every image in a class's test gallery, for operators' commands."""
    import uuid

    try:
        public_id = uuid.UUID(str(classroom_public_id))
    except ValueError:
        raise ValueError(f"{classroom_public_id!r} is not a class id (the part of the class page's address after /c/).")
    classroom = Classroom.objects.filter(public_id=public_id).first()
    if classroom is None:
        raise ValueError(f"No class with the id {classroom_public_id}.")
    return list(class_gallery(classroom).exclude(photo="").values_list("photo", "label"))


def gallery_for(assignment: Assignment):
    """The class's gallery images an experiment can use: those labelled in its list of groups."""
    return GalleryImage.objects.filter(classroom_id=assignment.classroom_id, label_set_id=assignment.label_set_id)


def uploads_allowed(assignment: Assignment) -> bool:
    """Uploads are opt-in once a gallery exists; without one they are the only photo source."""
    return assignment.allow_uploads or not gallery_for(assignment).exists()


def gallery_image_for(user: User, public_id) -> GalleryImage:
    """A gallery image for its class's teacher and students only; 404 for everyone else."""
    qs = GalleryImage.objects.select_related("classroom").filter(public_id=public_id)
    return _first_or_404(visible_to(user, qs), "No such image.")


def gallery_summary(classroom: Classroom) -> list[dict]:
    """Per source and group: how many images the class gallery holds (one GROUP BY)."""
    return list(
        class_gallery(classroom)
        .values("source", "synthetic", "label")
        .annotate(n=Count("id"))
        .order_by("source", "label")
    )


# --- Training jobs (teachers only, each sees their own) ----------------------------


def training_jobs_of(user: User):
    return TrainingJob.objects.filter(created_by=user).select_related("result")


def training_job_for(user: User, public_id):
    jobs = training_jobs_of(user) if user.is_teacher else TrainingJob.objects.none()
    return _first_or_404(jobs.filter(public_id=public_id), "No such training job.")


# --- Model cards -----------------------------------------------------------------------


@dataclass
class CardRow:
    group: str
    train: int
    n: int | None
    accuracy: float | None
    low: float | None
    high: float | None
    precision: float | None
    recall: float | None
    face_found: float | None = None  # share of the group's held-out images where a face was found


def models_in_use(families, now=None):
    """Active models of these families that an open experiment uses: what a worker preloads."""
    from django.db.models import Q

    now = now or timezone.now()
    not_due = Q(assignments__due_at__isnull=True) | Q(assignments__due_at__gte=now)
    open_now = Q(assignments__opens_at__lte=now) & not_due
    return (
        ModelVersion.objects.filter(active=True, family__in=list(families))
        .filter(open_now)
        .select_related("label_set", "base")
        .distinct()
    )


def card_rows(model: ModelVersion) -> list[CardRow]:
    """Per group, in label order: training images and the held-out numbers stored at training time."""
    per_group = (model.metrics or {}).get("per_group", {})
    rows = []
    for g in model.label_set.labels:
        m = per_group.get(g) or {}
        low, high = stored_interval(m)
        train = (model.composition or {}).get(g, 0)
        rows.append(
            CardRow(
                g,
                train,
                m.get("n"),
                m.get("accuracy"),
                low,
                high,
                m.get("precision"),
                m.get("recall"),
                m.get("face_found"),
            )
        )
    return rows


def evaluate_datasets(user, model: ModelVersion):
    """Datasets this user may evaluate the model on: an operator (staff) any model, a teacher
    their own; only datasets with the model's groups and held-out images."""
    from training.models import Dataset

    mine = model.scope == ModelVersion.Scope.TEACHER and model.created_by_id == user.pk
    if not (user.is_staff or (user.is_teacher and mine)):
        return []
    return list(Dataset.objects.filter(label_set=model.label_set, images__split="test").distinct().order_by("name"))


def intersectional_tables(model: ModelVersion) -> list[dict]:
    """Accuracy by group x attribute (gender, age band; the synthetic set's made-up style and band),
    as stored with the held-out numbers; a cell under the minimum count says "too few"."""
    tables = []
    for attribute in (model.metrics or {}).get("intersectional", {}).values():
        rows = []
        for group in model.label_set.labels:
            cells = attribute["cells"].get(group, {})
            rows.append(
                {
                    "group": group,
                    "cells": [
                        {**cells.get(v, {"n": 0}), "few": cells.get(v, {}).get("n", 0) < settings.MIN_TESTS_PER_GROUP}
                        for v in attribute["values"]
                    ],
                }
            )
        # The name is stored in English with the metrics (training.evaluation): shown translated.
        tables.append({"name": gettext(attribute["name"]), "values": attribute["values"], "rows": rows})
    return tables


def trained_by_job(model: ModelVersion):
    """The job that trained the model (not one that evaluated it later), if any."""
    jobs = model.training_jobs.exclude(kind="evaluate").select_related("created_by")
    return jobs.order_by("-created_at").first()


def served_precisions(model: ModelVersion) -> list[dict]:
    """The number formats the model's stored answers were computed in (VGG-Face: float32,
    bfloat16 or int8, inference.precision), with how many answers each: [{"name", "answers"}]."""
    if model.family != ModelVersion.Family.VGG:
        return []
    rows = (
        Prediction.objects.filter(model_version=model, status=Prediction.Status.DONE)
        .exclude(precision="")
        .values("precision")
        .annotate(answers=Count("pk"))
        .order_by("precision")
    )
    return [{"name": r["precision"], "answers": r["answers"]} for r in rows]


def model_card(model: ModelVersion) -> dict:
    """What a model card shows, from the metrics stored at training time: per group the
    training images, held-out accuracy with its 95% Wilson interval, precision and recall;
    the confusion matrix; the disparity; the job that trained it (if any)."""
    labels = list(model.label_set.labels)
    rows = card_rows(model)
    matrix = model.metrics.get("confusion") or []
    confusion = []
    if len(matrix) == len(labels) and all(len(r) == len(labels) for r in matrix):
        for g, cells in zip(labels, matrix, strict=True):
            total = sum(cells)
            confusion.append({"group": g, "total": total, "cells": [(c, c / total if total else None) for c in cells]})
    return {
        "labels": labels,
        "rows": rows,
        "confusion": confusion,
        "disparity": model.metrics.get("disparity") or {},
        "overall": model.metrics.get("overall_accuracy"),
        "total_train": sum(r.train for r in rows),
        "params": sorted(model.training_params.items()),
        "job": trained_by_job(model),
        "evaluated_on": model.metrics.get("evaluated_on"),
        "intersectional": intersectional_tables(model),
        "face_found": any(r.face_found is not None for r in rows),
        "served_precisions": served_precisions(model),
        "chart": {
            "groups": labels,
            "train": [r.train for r in rows],
            "accuracy": [r.accuracy for r in rows],
            "low": [r.low for r in rows],
            "high": [r.high for r in rows],
            "n": [r.n for r in rows],
        },
    }
