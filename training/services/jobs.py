"""Training jobs: create one, queue it, run it (from a Celery worker or a command).

A job is idempotent and resumable: a finished job is never run again, and a
job whose worker died is picked up again where its checkpoint or feature
cache left off.
"""

import logging
import uuid
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from inference.models import BaseWeights, ModelVersion
from inference.services import register_model_version
from inference.stored_text import declare
from inference.worker_heartbeats import alive

from ..models import TrainingJob
from ..progress import JobCancelled, JobRefused, job_progress, mark

# Web views import this module to start and cancel jobs: everything heavy
# (NumPy, OpenCV, h5py, TensorFlow) is imported inside the runners below.

log = logging.getLogger(__name__)

# What a finished job says on its page: stored in English by the worker, translated where it is
# shown (inference.stored_text). Fixed stages and messages are marked with gettext_noop below.
MLP_DONE = declare(gettext_noop("MLP trained in %(seconds)s s; held-out accuracy %(accuracy)s."))
LAB_DONE = declare(gettext_noop("Trained on %(images)s images; held-out accuracy %(accuracy)s."))
EVALUATED = declare(gettext_noop("Evaluated on %(images)s held-out images; accuracy %(accuracy)s."))
HEAD_DONE = declare(gettext_noop("Head trained; held-out accuracy %(accuracy)s."))
FINETUNED = declare(
    gettext_noop(
        "Fine-tuned %(epochs)s epochs (resumed from epoch %(resumed)s), %(seconds)s s per epoch; "
        "held-out accuracy %(accuracy)s."
    )
)
NOTHING_IMPORTED = declare(gettext_noop("Nothing was imported. %(reason)s"), nested=("reason",))

QUEUES = {
    TrainingJob.Kind.MLP: "training",
    TrainingJob.Kind.VGG_HEAD: "training",
    TrainingJob.Kind.VGG_FINETUNE: "gpu",  # EmbRACE's fine-tune wants a GPU; any worker on `gpu` takes it
    TrainingJob.Kind.LAB_MLP: "training",
    TrainingJob.Kind.EVALUATE: "training",
    TrainingJob.Kind.IMPORT: "training",
}


def check_params(kind: str, params: dict) -> None:
    """The rules every way of starting a job shares (page, commands, API): the dataset exists, the
    mix can be drawn from it, and its held-out split can evaluate the model. Raises
    composition.CompositionError with what is achievable instead."""
    from ..composition import CompositionError, available, plan
    from ..models import Dataset

    key = params.get("dataset")
    if kind == TrainingJob.Kind.IMPORT:
        from ..import_dir import KIND_NAMES, ImportDirError, resolve

        try:
            resolve(params.get("item") or "")
        except ImportDirError as exc:
            raise CompositionError(str(exc))
        if params.get("kind") not in KIND_NAMES:
            raise CompositionError(
                gettext("%(item)s is not something this page imports.") % {"item": params.get("item")}
            )
        return
    if kind == TrainingJob.Kind.EVALUATE:
        from .evaluate import check

        model = ModelVersion.objects.select_related("label_set").filter(key=params.get("model")).first()
        dataset = Dataset.objects.select_related("label_set").filter(key=key).first()
        if model is None or dataset is None:
            raise CompositionError(
                gettext("No model '%(model)s'.") % {"model": params.get("model")}
                if model is None
                else gettext("No dataset '%(dataset)s'.") % {"dataset": key}
            )
        try:
            check(model, dataset)
        except ValueError as exc:
            raise CompositionError(str(exc))
        return
    if not key or key == "synthetic" or kind == TrainingJob.Kind.LAB_MLP:  # generated set; the lab plans its own
        return
    dataset = Dataset.objects.select_related("label_set").filter(key=key).first()
    if dataset is None:
        raise CompositionError(gettext("No dataset '%(dataset)s' has been imported.") % {"dataset": key})
    if params.get("mix"):
        p = plan(params["mix"], available(dataset))
        if not p["achievable"]:
            raise CompositionError(p["message"])
        if not sum(p["counts"].values()):
            raise CompositionError(gettext("This mix has no images to train on."))
    # test_per_group is "at most" (commands default to 10 on any set); the page asks for exact numbers.
    if not any(available(dataset, split="test").values()):
        raise CompositionError(gettext("This dataset has no held-out images to evaluate the model on."))


def start_job(*, kind: str, params: dict, created_by=None, enqueue: bool = True) -> TrainingJob:
    """Check the job's parameters (check_params), record it, and queue it after commit."""
    check_params(kind, params)
    job = TrainingJob.objects.create(kind=kind, params=params, created_by=created_by)
    if enqueue:
        transaction.on_commit(partial(_enqueue, job.pk, QUEUES[kind]))
    return job


def _enqueue(job_id: int, queue: str) -> bool:
    """Send the job's task. With the broker unreachable the job waits, marked unsent, and a worker
    sends it once the broker is back (send_unsent_jobs); the teacher's page never fails for it."""
    from ..tasks import run_training_job

    try:
        run_training_job.apply_async(args=[job_id], queue=queue, retry=True, retry_policy={"max_retries": 2})
        return True
    except Exception as exc:  # noqa: BLE001 - whatever the broker raised, the job must not be lost
        log.warning("Could not queue training job %s on %s (%s); sent when the broker is back", job_id, queue, exc)
    TrainingJob.objects.filter(pk=job_id).update(unsent=True)
    return False


def send_job(job: TrainingJob) -> bool:
    """Send a job's task again (its worker died while running it, or the broker never got it)."""
    return _enqueue(job.pk, QUEUES[job.kind])


def send_unsent_jobs(*, broker_restarted: bool = False) -> int:
    """Send the tasks of jobs the broker never got (and, after the broker restarted empty, of every
    queued job); returns how many were sent. Each by one caller only: the one whose update clears
    the mark. A job sent twice still runs once (run_job's claim)."""
    if broker_restarted:
        TrainingJob.objects.filter(status=TrainingJob.Status.QUEUED).update(unsent=True)
    TrainingJob.objects.filter(unsent=True).exclude(status=TrainingJob.Status.QUEUED).update(unsent=False)
    sent = 0
    for job in TrainingJob.objects.filter(status=TrainingJob.Status.QUEUED, unsent=True).order_by("created_at"):
        if TrainingJob.objects.filter(pk=job.pk, unsent=True).update(unsent=False):
            sent += send_job(job)
    return sent


def cancel_job(*, job: TrainingJob) -> None:
    """The running job stops at its next check; a queued one never starts."""
    TrainingJob.objects.filter(pk=job.pk).exclude(status__in=TrainingJob.FINAL).update(
        status=TrainingJob.Status.CANCELLED, finished_at=timezone.now(), stage=gettext_noop("Cancelled")
    )


def group_busy(job: TrainingJob) -> bool:
    """A lab job waits while its group (a class) already has LAB_JOBS_PER_GROUP lab jobs running,
    so one class pressing Train at once cannot take every training worker of a shared server."""
    group = job.params.get("group")
    if job.kind != TrainingJob.Kind.LAB_MLP or not group:
        return False
    running = TrainingJob.objects.filter(kind=job.kind, status=TrainingJob.Status.RUNNING, params__group=group)
    return running.exclude(pk=job.pk).count() >= settings.LAB_JOBS_PER_GROUP


def run_job(
    job_id: int, *, progress=None, echo=None, when_busy=None, claim_token: str = "", worker: str = ""
) -> TrainingJob:
    """`when_busy(job)`: called instead of running a lab job whose class is at its limit (the task
    sends it again a little later); without it the job runs regardless. `claim_token`: the task's
    id (a redelivered task carries on its own run); `worker`: the worker's name, whose heartbeat
    keeps anyone else off the job while it runs."""
    token = claim_token or uuid.uuid4().hex
    job, resumed, busy = _claim(job_id, token, worker, check_busy=when_busy is not None)
    if busy:
        when_busy(busy)
    if job is None:  # left to another run, or final; None when deleted before its task came
        return TrainingJob.objects.filter(pk=job_id).first()
    if resumed:
        log.warning("Training job %s resumed after an interruption", job.pk)
    db_progress, should_stop = job_progress(job)

    def report(stage, fraction, eta):
        db_progress(stage, fraction, eta)
        if progress:
            progress(stage, fraction, eta)

    try:
        runner = {
            TrainingJob.Kind.MLP: _run_mlp,
            TrainingJob.Kind.VGG_HEAD: _run_vgg_head,
            TrainingJob.Kind.VGG_FINETUNE: _run_vgg_finetune,
            TrainingJob.Kind.LAB_MLP: _run_lab_mlp,
            TrainingJob.Kind.EVALUATE: _run_evaluate,
            TrainingJob.Kind.IMPORT: _run_import,
        }[job.kind]
        result, message = runner(job, report, should_stop, echo or (lambda line: log.info("job %s: %s", job.pk, line)))
    except JobCancelled as exc:
        mark(job, TrainingJob.Status.CANCELLED, message=str(exc), claim_token=token)
    except JobRefused as exc:
        mark(job, TrainingJob.Status.FAILED, error=str(exc), stage=gettext_noop("Failed"), claim_token=token)
    except Exception as exc:
        log.exception("Training job %s failed", job.pk)
        error = f"{type(exc).__name__}: {exc}"
        mark(job, TrainingJob.Status.FAILED, error=error, stage=gettext_noop("Failed"), claim_token=token)
    else:
        mark(
            job,
            TrainingJob.Status.DONE,
            claim_token=token,
            result=result,
            percent=100,
            eta_seconds=0,
            stage=gettext_noop("Done"),
            message=message,
        )
    job.refresh_from_db()
    return job


def _claim(job_id: int, token: str, worker: str, *, check_busy: bool):
    """Mark the job running under `token`, or leave it: (the job to run or None, whether it resumes
    an interrupted run, the job when its class is at its limit of lab jobs and `check_busy`).

    A job another live worker is running is left to it: a second copy of its task (a redelivery,
    a second worker) would otherwise run it alongside and register a second model version. A
    running job whose worker stopped sending heartbeats, or that this task's own earlier delivery
    was running, resumes from its checkpoints."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_final:
            return None, False, None
        if check_busy and job.status == TrainingJob.Status.QUEUED and group_busy(job):
            return None, False, job
        resumed = job.status == TrainingJob.Status.RUNNING  # a previous run of this job was interrupted
        if resumed and job.claim_token != token and job.claimed_by and alive(job.claimed_by):
            log.info("Training job %s is being run by %s; this copy of its task leaves it", job.pk, job.claimed_by)
            return None, False, None
        fields = {
            "status": TrainingJob.Status.RUNNING,
            "started_at": job.started_at or timezone.now(),
            "message": gettext_noop("Resumed after an interruption.") if resumed else "",
            "claim_token": token,
            "claimed_by": worker,
        }
        TrainingJob.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)
    return job, resumed, None


@dataclass
class JobData:
    train: object  # ImageSet
    test: object
    label_set: object
    data_source: str
    synthetic: bool


def _job_data(params: dict) -> JobData:
    """Training and held-out images for the job: an imported dataset sampled with
    the job's mix, or (without "dataset") the generated synthetic set."""
    from .. import synthetic
    from ..datasets import held_out_set, training_set
    from ..image_sets import synthetic_image_set
    from ..models import Dataset
    from .mlp import demo_label_set

    seed = params.get("seed", 0)
    key = params.get("dataset") or "synthetic"
    if key != "synthetic":
        dataset = Dataset.objects.select_related("label_set").get(key=key)
        train, _ = training_set(dataset, params["mix"], seed=seed)
        test = held_out_set(dataset, per_group=params.get("test_per_group"), seed=seed)
        source = dataset.name + (" (synthetic, not real people)" if dataset.synthetic else "")
        return JobData(train, test, dataset.label_set, source, dataset.synthetic)
    composition = params.get("composition") or dict.fromkeys(synthetic.GROUPS, params.get("per_group", 40))
    train = synthetic_image_set(composition, split="train", seed=seed)
    held_out = dict.fromkeys(synthetic.GROUPS, params.get("test_per_group", 10))
    test = synthetic_image_set(held_out, split="test", seed=seed)
    return JobData(
        train, test, demo_label_set(), gettext_noop("Synthetic demo set (generated face-like drawings)"), True
    )


def _base(params: dict) -> BaseWeights:
    from .vgg import ensure_random_base

    if params.get("base"):
        return BaseWeights.objects.get(key=params["base"])
    return ensure_random_base(seed=params.get("seed", 0), width=params.get("width", 1.0))


def _run_mlp(job, progress, should_stop, echo):
    import numpy as np

    from inference.preprocessing import InputSpec

    from ..datasets import preprocessed, preprocessed_with_faces
    from .evaluate import record_face_found
    from .mlp import DEMO_SPEC, train_and_register_mlp

    params = job.params
    data = _job_data(params)
    spec = InputSpec.from_dict(params["input"]) if params.get("input") else DEMO_SPEC
    spec = replace(spec, detector=detector_for(params, data))

    def stage(name, offset, share):
        return lambda done, n, spi: progress(name, offset + share * done / n, spi * (n - done))

    preparing_train = stage(gettext_noop("Preparing training images"), 0, 0.7)
    preparing_test = stage(gettext_noop("Preparing held-out images"), 0.7, 0.2)
    x = preprocessed(data.train, spec, progress=preparing_train, should_stop=should_stop)
    x_test, faces = preprocessed_with_faces(data.test, spec, progress=preparing_test, should_stop=should_stop)
    if len(x) < len(data.train) or len(x_test) < len(data.test):
        raise JobCancelled(gettext_noop("Cancelled while preparing images; the prepared ones are cached."))
    progress(gettext_noop("Training the MLP"), 0.9, None)
    mv = train_and_register_mlp(
        x=np.asarray(x),
        y=data.train.labels,
        x_test=np.asarray(x_test),
        y_test=data.test.labels,
        label_set=data.label_set,
        spec=spec,
        key=params.get("key") or f"mlp-job{job.pk}",
        name=params.get("name") or f"MLP (job {job.pk})",
        composition=data.train.composition(data.label_set.labels),
        data_source=data.data_source,
        synthetic_data=data.synthetic,
        seed=params.get("seed", 0),
        created_by=job.created_by,
        test_attributes=data.test.attributes,
    )
    record_face_found(mv, data.test.labels, np.asarray(faces))
    fit, accuracy = mv.training_params["fit_seconds"], mv.metrics["overall_accuracy"]
    return mv, MLP_DONE % {"seconds": fit, "accuracy": f"{accuracy:.0%}"}


def detector_for(params: dict, data: JobData) -> str:
    """The job's face detector: as asked, else MTCNN for real photos (it finds faces Haar misses),
    Haar for the synthetic drawings (fast, and their faces are drawn where the crop expects)."""
    return params.get("detector") or ("haar" if data.synthetic else "mtcnn")


def _run_lab_mlp(job, progress, should_stop, echo):
    from ..models import Dataset
    from .lab import train_lab_model

    params = job.params
    mv = train_lab_model(
        dataset=Dataset.objects.select_related("label_set").get(key=params["dataset"]),
        mix=params["mix"],
        cap=params["cap"],
        key=params.get("key") or f"lab-job{job.pk}",
        name=params.get("name") or f"Lab model (job {job.pk})",
        created_by=job.created_by,
        seed=params.get("seed", 0),
        progress=progress,
    )
    accuracy = mv.metrics["overall_accuracy"]
    return mv, LAB_DONE % {"images": f"{sum(mv.composition.values()):,}", "accuracy": f"{accuracy:.0%}"}


def _run_import(job, progress, should_stop, echo):
    """The command-line importers' code, checks first; a refused import stores nothing."""
    from inference.vggface_weights import WeightsFileError

    from ..import_dir import ImportDirError, run_import
    from ..importers.common import DatasetImportError

    try:
        return run_import(job.params, progress)
    except (DatasetImportError, WeightsFileError, ImportDirError) as exc:
        raise JobRefused(NOTHING_IMPORTED % {"reason": exc})


def _run_evaluate(job, progress, should_stop, echo):
    from ..models import Dataset
    from .evaluate import evaluate_model

    params = job.params
    mv = evaluate_model(
        model=ModelVersion.objects.select_related("label_set", "base").get(key=params["model"]),
        dataset=Dataset.objects.select_related("label_set").get(key=params["dataset"]),
        per_group=params.get("test_per_group") or None,
        seed=params.get("seed", 0),
        progress=progress,
        should_stop=should_stop,
    )
    m = mv.metrics
    return mv, EVALUATED % {"images": f"{m['evaluated_on']['images']:,}", "accuracy": f"{m['overall_accuracy']:.0%}"}


def _run_vgg_head(job, progress, should_stop, echo):
    from .vgg import train_vgg_head

    params = job.params
    data = _job_data(params)
    train, test = data.train, data.test
    base = _base(params)
    mv = train_vgg_head(
        base=base,
        label_set=data.label_set,
        train=train,
        test=test,
        key=params.get("key") or f"vgg-head-job{job.pk}",
        name=params.get("name") or f"VGG-Face head (job {job.pk})",
        data_source=data.data_source,
        synthetic_data=data.synthetic,
        cut=params.get("cut", "fc7"),
        epochs=params.get("epochs") or None,
        seed=params.get("seed", 0),
        progress=progress,
        should_stop=should_stop,
        created_by=job.created_by,
        detector=detector_for(params, data),
    )
    return mv, HEAD_DONE % {"accuracy": f"{mv.metrics['overall_accuracy']:.0%}"}


def _run_vgg_finetune(job, progress, should_stop, echo):
    from inference.artifacts import save_artifact
    from inference.registry import verified_path
    from inference.vggface_weights import write_layers

    from ..trainers.vgg_finetune import DEFAULT_FINETUNE_PARAMS, finetune
    from ..vgg_features import VGG_SPEC

    params = {**DEFAULT_FINETUNE_PARAMS, **job.params}
    data = _job_data(params)
    train, test, label_set = data.train, data.test, data.label_set
    base = _base(params)
    checkpoints = Path(settings.MODEL_STORE) / "checkpoints" / f"job-{job.pk}"
    TrainingJob.objects.filter(pk=job.pk).update(checkpoint_dir=str(checkpoints.relative_to(settings.MODEL_STORE)))
    top, metrics, timing = finetune(
        base_path=verified_path(base.name, base.artifact_path, base.sha256),
        width=base.width,
        n_classes=len(label_set.labels),
        train=train,
        test=test,
        labels=label_set.labels,
        checkpoint_dir=checkpoints,
        epochs=params["epochs"],
        samples_per_epoch=params["samples_per_epoch"],
        batch_size=params["batch_size"],
        learning_rate=params["learning_rate"],
        seed=params["seed"],
        progress=progress,
        should_stop=should_stop,
        log=echo,
    )
    key = params.get("key") or f"vgg-finetune-job{job.pk}"
    relative, digest = save_artifact("vgg", key, ".h5", lambda path: write_layers(path, top))
    mv = register_model_version(
        key=key,
        name=params.get("name") or f"VGG-Face fine-tuned (job {job.pk})",
        family=ModelVersion.Family.VGG,
        label_set=label_set,
        artifact_path=relative,
        sha256=digest,
        input_spec=VGG_SPEC.to_dict(),
        composition=train.composition(label_set.labels),
        metrics=metrics,
        training_params={
            "width": base.width,
            "trained_layers": list(dict(top)),
            "base": base.key,
            **{k: params[k] for k in DEFAULT_FINETUNE_PARAMS},
            **timing,
        },
        base=base,
        data_source=data.data_source,
        synthetic=data.synthetic,
        pretrained=base.pretrained,
        active=True,
        created_by=job.created_by,
    )
    return mv, FINETUNED % {
        "epochs": params["epochs"],
        "resumed": timing["resumed_from_epoch"],
        "seconds": timing["seconds_per_epoch"],
        "accuracy": f"{metrics['overall_accuracy']:.0%}",
    }
