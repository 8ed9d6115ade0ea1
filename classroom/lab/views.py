"""Lab pages: the teacher's settings, a student's lab (choose a mix, train, follow it), the
live mix check the form's chart draws from, and a model's progress."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from .. import selectors
from ..models import LabModel
from ..views.access import teacher_required
from ..views.training import in_reader_language, job_state
from . import selectors as lab_selectors
from . import services
from .forms import LabModelForm, LabSettingsForm, teams_text


@teacher_required
def lab_settings(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    initial = {
        "enabled": assignment.lab_enabled,
        "dataset": assignment.lab_dataset.key if assignment.lab_dataset else None,
        "mixes": assignment.lab_mixes or ["balanced", "k_times"],
        "max_k": assignment.lab_max_k,
        "images_per_model": assignment.lab_images_per_model,
        "models_per_student": assignment.lab_models_per_student,
        "teams": teams_text(assignment),
    }
    form = LabSettingsForm(request.POST or None, initial=initial, assignment=assignment)
    was_on = assignment.lab_enabled
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.configure_lab(
                assignment=assignment,
                enabled=d["enabled"],
                dataset=d["dataset"],
                mixes=d["mixes"],
                max_k=d["max_k"],
                images_per_model=d["images_per_model"],
                models_per_student=d["models_per_student"],
            )
            services.set_teams(assignment=assignment, teams=d["teams"])
        except services.LabError as exc:
            form.add_error(None, str(exc))
        else:
            if d["enabled"] and not was_on:
                messages.success(
                    request,
                    gettext("Lab switched on: students see an “Open the lab” button on the experiment page."),
                )
            elif was_on and not d["enabled"]:
                messages.success(request, gettext("Lab switched off: students' models stay on the chart."))
            else:
                messages.success(request, gettext("Lab settings saved."))
            return redirect("lab", public_id=public_id)
    return render(
        request,
        "classroom/lab/settings.html",
        {"assignment": assignment, "classroom": assignment.classroom, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def lab(request, public_id):
    """Students: choose a mix and train; their (team's) models. Teachers: every model, named."""
    assignment = selectors.assignment_for(request.user, public_id)
    context = {
        "assignment": assignment,
        "classroom": assignment.classroom,
        **lab_selectors.chart_context(assignment, request.user, names=request.user.is_teacher),
    }
    if request.user.is_teacher:
        context["lab_models"] = LabModel.objects.filter(assignment=assignment).select_related(
            "job", "job__result", "trained_by", "team"
        )
        return render(request, "classroom/lab/overview.html", context)
    if not assignment.lab_enabled:
        raise Http404("The lab is not switched on for this experiment.")
    form = LabModelForm(request.POST or None, assignment=assignment)
    if request.method == "POST" and form.is_valid():
        try:
            services.start_lab_model(
                assignment=assignment, student=request.user, name=form.cleaned_data["name"], **form.choice()
            )
        except services.LabError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, gettext("Your model is in the queue. This page shows its progress."))
            return redirect(f"{reverse('lab', args=[public_id])}#my-models")
    context.update(
        form=form,
        team=services.team_of(assignment, request.user),
        mine=[_shown(row) for row in lab_selectors.my_models(assignment, request.user)],
        composition_url=reverse("lab_composition", args=[public_id]),
    )
    return render(request, "classroom/lab/lab.html", context, status=400 if request.method == "POST" else 200)


def _shown(row: lab_selectors.MyLabModel) -> lab_selectors.MyLabModel:
    in_reader_language(row.job)  # the stage its worker stored, in the page's language
    return row


@login_required
@require_GET
def lab_composition(request, public_id):
    """The live chart's numbers for a student's mix: counts per group, what the dataset can give,
    and whether it is achievable (the message names the largest that is, when it is not)."""
    assignment = selectors.assignment_for(request.user, public_id)
    if not assignment.lab_enabled or assignment.lab_dataset is None:
        return JsonResponse({"achievable": False, "message": gettext("The lab is not switched on.")})
    form = LabModelForm({**request.GET.dict(), "name": "-"}, assignment=assignment)  # the name is not checked here
    if not form.is_valid():
        errors = [str(e) for errs in form.errors.values() for e in errs]
        return JsonResponse({"achievable": False, "message": " ".join(errors) or gettext("Check the mix.")})
    try:
        p = services.plan(assignment, **form.choice())
    except services.LabError as exc:  # a mix that cannot be drawn is an answer, not an error (200)
        return JsonResponse({"achievable": False, "message": str(exc)})
    return JsonResponse({"groups": list(assignment.label_set.labels), **p})


def lab_model_state(m: LabModel) -> dict:
    """The training job's progress (as on the teacher's job page), with the student's place in the
    queue, and a plain error instead of the technical one."""
    state = job_state(m.job)
    place = services.place_in_queue(m)
    return {
        **{key: state[key] for key in ("status", "status_display", "stage", "percent", "eta_text", "final")},
        "place": place,
        "waiting": gettext("Number %(place)s in the queue") % {"place": place} if place else "",
        "error": gettext("Training failed. Try again, or ask your teacher.") if state["status"] == "failed" else "",
        "model_card": state["result"]["url"] if state["result"] else None,
    }


@login_required
@require_GET
def lab_model_status(request, public_id):
    """Polled by the lab page while a model waits or trains."""
    return JsonResponse(lab_model_state(services.lab_model_for(request.user, public_id)))
