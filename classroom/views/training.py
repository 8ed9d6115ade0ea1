"""Training jobs for teachers: choose a dataset, a model family and a mix (with a live
composition chart), start a job, follow its progress, cancel it, open its model card.

A teacher sees only their own jobs (anything else is a 404).

training.services.jobs is imported inside the two views that write (start, cancel): a page that
only shows jobs needs none of it.
"""

from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from inference.models import BaseWeights
from training.models import Dataset, TrainingJob

from .. import selectors
from ..forms import MixForm, TrainingJobForm
from ..stored_text import translated
from .access import teacher_required

NO_DATASETS = gettext_lazy(
    "No dataset has been imported yet. Import one on the server (manage.py import_utkface, import_fairface, "
    "or seed_demo for the synthetic set)."
)


def _n(n: int) -> str:
    return formats.number_format(n, force_grouping=True)


def eta_text(seconds) -> str:
    if seconds is None:
        return ""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return gettext("less than a minute left")
    minutes = round(seconds / 60)
    if minutes < 90:
        return gettext("about %(minutes)s min left") % {"minutes": minutes}
    hours = Decimal(f"{minutes / 60:.1f}")  # rounded as before; number_format alone would cut the digit off
    return gettext("about %(hours)s h left") % {"hours": formats.number_format(hours, 1)}


def mix_text(mix: dict | None) -> str:
    """A job's mix in words, for its page."""
    if not mix:
        return "—"
    kind = mix.get("kind", "balanced")
    if kind == "balanced":
        n = mix.get("per_group")
        if n:
            return gettext("Balanced: %(n)s per group") % {"n": _n(n)}
        return gettext("Balanced: as many per group as the smallest group has")
    if kind == "k_times":
        values = {"k": mix.get("k", 10), "group": mix.get("majority")}
        if mix.get("per_minority"):
            return gettext("%(k)sx as many %(group)s (%(n)s of each other group)") % {
                **values,
                "n": _n(mix["per_minority"]),
            }
        return gettext("%(k)sx as many %(group)s (as many as possible)") % values
    if kind == "counts":
        counts = ", ".join(f"{g}: {_n(n)}" for g, n in mix.get("counts", {}).items())
        return gettext("Counts: %(counts)s") % {"counts": counts}
    if kind == "cap":
        return gettext("Everything, at most %(n)s per group") % {"n": _n(mix.get("cap", 0))}
    return str(mix)


def in_reader_language(job: TrainingJob) -> TrainingJob:
    """The job as its page shows it: the stage, message and error its worker stored in English,
    translated (on this instance only: never saved)."""
    job.stage, job.message, job.error = translated(job.stage), translated(job.message), translated(job.error)
    return job


def job_state(job: TrainingJob) -> dict:
    """A job's progress as its page polls it (the student lab builds on it)."""
    result = job.result
    return {
        "status": job.status,
        "status_display": job.get_status_display(),
        "stage": translated(job.stage),
        "percent": job.percent,
        "eta_seconds": job.eta_seconds,
        "eta_text": "" if job.is_final else eta_text(job.eta_seconds),
        "message": translated(job.message),
        "error": translated(job.error),
        "final": job.is_final,
        "result": {"name": result.name, "url": reverse("model_card", args=[result.key])} if result else None,
    }


def _jobs_page(request, form, status=200):
    context = {
        "form": form,
        "jobs": selectors.training_jobs_of(request.user).order_by("-created_at")[:50],
        "has_datasets": Dataset.objects.exists(),
        "no_datasets": NO_DATASETS,
        "has_pretrained_base": BaseWeights.objects.filter(pretrained=True).exists(),
        "composition_url": reverse("training_composition"),
    }
    return render(request, "training/jobs.html", context, status=status)


@teacher_required
def jobs(request):
    if request.method != "POST":
        return _jobs_page(request, TrainingJobForm())
    form = TrainingJobForm(request.POST)
    if not form.is_valid():
        return _jobs_page(request, form, status=400)
    from training.composition import CompositionError
    from training.services.jobs import start_job

    try:
        job = start_job(kind=form.cleaned_data["kind"], params=form.params(), created_by=request.user)
    except CompositionError as exc:  # the dataset changed since the form checked it
        form.add_error(None, str(exc))
        return _jobs_page(request, form, status=400)
    messages.success(request, gettext("Training job queued. This page updates as it runs."))
    return redirect("training_job", public_id=job.public_id)


@teacher_required
@require_GET
def composition_json(request):
    """The live chart's numbers: counts per group for the mix, what the dataset has, and
    whether it is achievable (with the message saying what is, when it is not)."""
    first = Dataset.objects.order_by("name").first()
    if first is None:
        return JsonResponse({"achievable": False, "message": NO_DATASETS, "counts": {}, "available": {}})
    form = MixForm(request.GET or {"dataset": first.key, "mix_kind": "balanced"})
    if not form.is_valid():
        errors = [str(e) for errs in form.errors.values() for e in errs]
        return JsonResponse({"achievable": False, "message": " ".join(errors) or gettext("Check the mix.")}, status=400)
    dataset = form.cleaned_data["dataset"]
    return JsonResponse(
        {
            "dataset": dataset.key,
            "synthetic": dataset.synthetic,
            "groups": list(dataset.label_set.labels),
            "mix": form.cleaned_data["mix"],
            **form.plan,
        }
    )


@teacher_required
@require_GET
def job_detail(request, public_id):
    job = in_reader_language(selectors.training_job_for(request.user, public_id))
    dataset = Dataset.objects.filter(key=job.params.get("dataset")).first()
    context = {"job": job, "dataset": dataset, "state": job_state(job), "mix_text": mix_text(job.params.get("mix"))}
    return render(request, "training/job.html", context)


@teacher_required
@require_GET
def job_status(request, public_id):
    """Polled by the job page: stage, percent, time left, and the model card once done."""
    return JsonResponse(job_state(selectors.training_job_for(request.user, public_id)))


@teacher_required
@require_POST
def cancel_job(request, public_id):
    job = selectors.training_job_for(request.user, public_id)
    if job.is_final:
        messages.info(
            request,
            gettext("This job has already finished (%(status)s).") % {"status": job.get_status_display().lower()},
        )
    else:
        from training.services.jobs import cancel_job as cancel

        cancel(job=job)
        messages.success(request, gettext("Job cancelled. A running job stops at its next checkpoint."))
    return redirect("training_job", public_id=job.public_id)


def staff_teacher_required(view):
    """Operators: a teacher account marked staff (manage.py set_operator)."""

    @teacher_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404()
        return view(request, *args, **kwargs)

    return wrapper


@staff_teacher_required
def models_and_data(request):
    """What the import folder holds, recognised by kind, each with an Import button; and the
    imports started so far. POST starts one as a job on the training queue."""
    from training import import_dir
    from training.composition import CompositionError
    from training.services.jobs import start_job

    items = import_dir.scan()
    if request.method == "POST":
        item = next((i for i in items if i.path == request.POST.get("item") and i.importable), None)
        if item is None:
            messages.error(request, gettext("That item is not in the import folder, or cannot be imported as it is."))
            return redirect("models_and_data")
        params = {"item": item.path, "kind": item.kind}
        if item.kind == "fairface":
            params["merge_asian"] = request.POST.get("merge_asian") == "1"
        if item.kind == "race_model":
            params["labels"] = request.POST.get("labels") or item.options.get("labels", "")
        try:
            job = start_job(kind=TrainingJob.Kind.IMPORT, params=params, created_by=request.user)
        except CompositionError as exc:
            messages.error(request, str(exc))
            return redirect("models_and_data")
        messages.success(request, gettext("Import of %(item)s queued. This page follows it.") % {"item": item.path})
        return redirect("training_job", public_id=job.public_id)
    context = {
        "folder": import_dir.root(),
        "items": items,
        "imports": TrainingJob.objects.filter(kind=TrainingJob.Kind.IMPORT).order_by("-created_at")[:20],
        "datasets": Dataset.objects.select_related("label_set").order_by("name"),
    }
    return render(request, "training/data.html", context)
