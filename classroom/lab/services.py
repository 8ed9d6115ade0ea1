"""The student lab: a teacher switches it on for an experiment (dataset, allowed mixes, bounds,
teams); students train small models on a mix they choose. A lab model is a class model: only
that class sees it, it joins its student's (team's) gallery tests and the class chart, and it
is deleted with the class."""

import logging
import uuid
from functools import partial

from django.db import transaction
from django.utils.translation import gettext, gettext_lazy, ngettext

from training.composition import CompositionError
from training.models import Dataset, TrainingJob
from training.services import lab

from ..models import Assignment, LabModel, LabTeam, User
from ..selectors import lab_models_of as models_of
from ..selectors import lab_team_of as team_of
from ..services.submissions import assignment_is_open

log = logging.getLogger(__name__)

MIX_NAMES = {
    "balanced": gettext_lazy("Balanced: the same number of every group"),
    "k_times": gettext_lazy("k times as many of one group"),
    "counts": gettext_lazy("Choose the number of each group"),
}


class LabError(ValueError):
    """A lab request cannot be done; the message says why, in words for a student or teacher."""


def _queue_pool(dataset_key: str) -> None:
    """Only a head start: a lab job prepares the pool itself when it was never prepared, so a
    broker that is away is logged, not sent again, and the teacher's page does not fail for it."""
    from training.tasks import prepare_lab_pool

    try:
        prepare_lab_pool.apply_async(args=[dataset_key], queue="training", retry=True, retry_policy={"max_retries": 2})
    except Exception as exc:  # noqa: BLE001 - whatever the broker raised
        log.warning("Could not queue the lab pool of dataset %s (%s); the first lab job prepares it", dataset_key, exc)


@transaction.atomic
def configure_lab(
    *,
    assignment: Assignment,
    enabled: bool,
    dataset: Dataset | None = None,
    mixes: list[str] | None = None,
    max_k: int = 10,
    images_per_model: int = 300,
    models_per_student: int = 3,
) -> Assignment:
    if enabled:
        if dataset is None:
            raise LabError(gettext("Choose the dataset students train on."))
        if dataset.label_set_id != assignment.label_set_id:
            raise LabError(
                gettext(
                    "The lab's dataset must have this experiment's groups (%(groups)s), so students' models can be "
                    "compared with the experiment's models."
                )
                % {"groups": ", ".join(assignment.label_set.labels)}
            )
        mixes = [m for m in lab.LAB_MIX_KINDS if m in (mixes or [])]
        if not mixes:
            raise LabError(gettext("Allow at least one kind of mix."))
    assignment.lab_enabled = enabled
    if enabled:
        assignment.lab_dataset = dataset
        assignment.lab_mixes = mixes
        assignment.lab_max_k = max_k
        assignment.lab_images_per_model = images_per_model
        assignment.lab_models_per_student = models_per_student
        assignment.full_clean(exclude=["classroom", "label_set", "title"])
        # Prepare the dataset's images now, so the first student's model is quick.
        transaction.on_commit(partial(_queue_pool, dataset.key))
    assignment.save()
    return assignment


@transaction.atomic
def set_teams(*, assignment: Assignment, teams: dict[str, list[User]]) -> None:
    """Replace the experiment's teams ({name: students}); a student is in at most one team."""
    enrolled = set(assignment.classroom.enrollments.values_list("student_id", flat=True))
    seen = set()
    for members in teams.values():
        for s in members:
            if s.pk not in enrolled:
                raise LabError(gettext("Teams: %(username)s is not in this class.") % {"username": s.username})
            if s.pk in seen:
                raise LabError(
                    gettext("Teams: %(username)s is in two teams. Put each student in one team.")
                    % {"username": s.username}
                )
            seen.add(s.pk)
    assignment.lab_teams.all().delete()
    for name, members in teams.items():
        if members:
            team = LabTeam.objects.create(assignment=assignment, name=name.strip()[:60] or gettext("Team"))
            team.members.set(members)


def plan(assignment: Assignment, *, kind: str, majority: str = "", k: int = 1, counts=None) -> dict:
    """The mix a student asks for, checked against what the lab allows and the dataset has."""
    if kind not in (assignment.lab_mixes or []):
        raise LabError(gettext("Your teacher has not allowed that kind of mix."))
    groups = list(assignment.label_set.labels)
    if kind == "k_times":
        if majority not in groups:
            raise LabError(gettext("Choose the group the model sees more of."))
        if not 1 <= k <= assignment.lab_max_k:
            raise LabError(gettext("Choose how many times as many: from 1 to %(max)s.") % {"max": assignment.lab_max_k})
    if kind == "counts" and any(int(n) < 0 for n in (counts or {}).values()):
        raise LabError(gettext("Counts cannot be negative."))
    mix = lab.lab_mix(kind, groups, assignment.lab_images_per_model, majority=majority, k=k, counts=counts)
    try:
        return {"mix": mix, **lab.plan_lab_mix(assignment.lab_dataset, mix, cap=assignment.lab_images_per_model)}
    except CompositionError as exc:
        raise LabError(str(exc))


def start_lab_model(
    *, assignment: Assignment, student: User, name: str, kind: str, majority: str = "", k: int = 1, counts=None
) -> LabModel:
    """Queue a student's model. Refused before anything is queued when the lab is off, the
    quota is used, or the mix is not achievable (the message names the largest that is)."""
    if not assignment.lab_enabled or assignment.lab_dataset is None:
        raise LabError(gettext("The lab is not switched on for this experiment."))
    if not assignment_is_open(assignment):
        raise LabError(gettext("This experiment is closed: no more models can be trained."))
    if not assignment.classroom.enrollments.filter(student=student).exists():
        raise PermissionError(gettext("Only students of this class train models here."))
    name = " ".join((name or "").split())[:60]
    if not name:
        raise LabError(gettext("Give your model a name (not your own name: classmates may see it)."))
    team = team_of(assignment, student)
    used = models_of(assignment, student).exclude(
        job__status__in=[TrainingJob.Status.FAILED, TrainingJob.Status.CANCELLED]
    )
    if used.count() >= assignment.lab_models_per_student:
        n = assignment.lab_models_per_student
        if team:
            message = ngettext(
                "Your team has trained %(n)s model, the most your teacher allows.",
                "Your team has trained %(n)s models, the most your teacher allows.",
                n,
            )
        else:
            message = ngettext(
                "You have trained %(n)s model, the most your teacher allows.",
                "You have trained %(n)s models, the most your teacher allows.",
                n,
            )
        raise LabError(message % {"n": n})
    p = plan(assignment, kind=kind, majority=majority, k=k, counts=counts)
    if not p["achievable"]:
        raise LabError(p["message"])
    from training.services.jobs import start_job  # not at module level: see views/training.py

    with transaction.atomic():
        job = start_job(
            kind=TrainingJob.Kind.LAB_MLP,
            params={
                "dataset": assignment.lab_dataset.key,
                "mix": p["mix"],
                "cap": assignment.lab_images_per_model,
                "name": name,
                "key": f"lab-{uuid.uuid4().hex[:16]}",
                "group": str(assignment.classroom.public_id),  # the per-class limit on running lab jobs
            },
            created_by=student,
        )
        return LabModel.objects.create(
            assignment=assignment, job=job, trained_by=student, team=team, name=name, mix=p["mix"], counts=p["counts"]
        )


def place_in_queue(lab_model: LabModel) -> int:
    """1 when it is next (or running); lab jobs of every class wait in one training queue."""
    job = lab_model.job
    if job.status != TrainingJob.Status.QUEUED:
        return 0
    ahead = TrainingJob.objects.filter(
        status__in=[TrainingJob.Status.QUEUED, TrainingJob.Status.RUNNING], created_at__lt=job.created_at
    ).count()
    return ahead + 1


def lab_model_for(user: User, public_id) -> LabModel:
    """A lab model its trainer, their team or the class's teacher may follow; anything else is a 404."""
    from django.db.models import Q
    from django.http import Http404

    qs = LabModel.objects.select_related("job", "job__result", "assignment__classroom")
    if user.is_teacher:
        m = qs.filter(public_id=public_id, assignment__classroom__teacher=user).first()
    else:
        m = qs.filter(Q(trained_by=user) | Q(team__members=user), public_id=public_id).first()
    if m is None:
        raise Http404("No such model.")
    return m


def delete_lab_models(lab_models) -> int:
    """Delete lab models with their jobs, their answers, their registry rows and their files (the
    files once the transaction commits). Class models never outlive their class, experiment or student."""
    from inference.artifacts import delete_artifact
    from inference.models import ModelVersion

    from ..models import Prediction

    rows = list(lab_models.select_related("job"))
    model_ids = [m.job.result_id for m in rows if m.job.result_id]
    files = list(ModelVersion.objects.filter(pk__in=model_ids).values_list("artifact_path", flat=True))
    Prediction.objects.filter(model_version_id__in=model_ids).delete()
    TrainingJob.objects.filter(pk__in=[m.job_id for m in rows]).delete()  # the lab models cascade
    ModelVersion.objects.filter(pk__in=model_ids, scope=ModelVersion.Scope.CLASS).delete()

    def remove():
        for name in files:
            delete_artifact(name)  # here and in the object storage

    transaction.on_commit(remove)
    return len(rows)
