from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from inference.intake import IntakeError
from inference.models import ModelVersion

from .. import selectors
from ..forms import GalleryPickForm, SubmissionForm
from ..markup import render_markdown
from ..services import classes, submissions
from .access import student_required, teacher_required


def _assignment_page(request, assignment, form=None, status=200, gallery_form=None):
    gallery = selectors.gallery_for(assignment)
    context = {
        "assignment": assignment,
        "classroom": assignment.classroom,
        "instructions_html": render_markdown(assignment.instructions),
        "models": assignment.model_versions.select_related("label_set"),
        "is_open": submissions.assignment_is_open(assignment),
        "results_visible": selectors.results_visible(request.user, assignment),
        "n_gallery": gallery.count(),
        "gallery_synthetic": gallery.filter(synthetic=True).exists(),
        "uploads_allowed": selectors.uploads_allowed(assignment),
    }
    if request.user.is_student:
        context["form"] = form or SubmissionForm(assignment=assignment)
        context["gallery_form"] = gallery_form or GalleryPickForm(assignment=assignment, gallery=gallery)
        context["history"] = selectors.submissions_of(request.user, assignment)
    else:
        context["n_submissions"] = assignment.submissions.count()
    return render(request, "classroom/assignment.html", context, status=status)


@login_required
def assignment_detail(request, public_id):
    return _assignment_page(request, selectors.assignment_for(request.user, public_id))


@student_required
@require_POST
def submit(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    form = SubmissionForm(request.POST, request.FILES, assignment=assignment)
    if form.is_valid():
        try:
            submission = submissions.submit_photo(
                assignment=assignment,
                student=request.user,
                upload=form.cleaned_data["photo"],
                expected_label=form.cleaned_data.get("expected_label", ""),
                note=form.cleaned_data["note"],
            )
        except (IntakeError, submissions.SubmissionError) as exc:
            form.add_error("photo" if isinstance(exc, IntakeError) else None, str(exc))
        else:
            return redirect("submission", public_id=submission.public_id)
    return _assignment_page(request, assignment, form=form, status=400)


@login_required
def submission_detail(request, public_id):
    submission = selectors.submission_for(request.user, public_id)
    return render(
        request,
        "classroom/submission.html",
        {
            "submission": submission,
            "assignment": submission.assignment,
            "predictions": selectors.predictions_of(submission),
            "show_student": request.user.is_teacher,
        },
    )


@login_required
def submission_status(request, public_id):
    """Polled by the submission page so answers appear without reloading."""
    submission = selectors.submission_for(request.user, public_id)
    preds = selectors.predictions_of(submission)
    return JsonResponse(
        {
            "done": all(p.is_final for p in preds),
            "predictions": [
                {
                    "model": p.model_version.key,
                    "status": p.status,
                    "status_display": p.get_status_display(),
                    "label": p.label,
                    "probabilities": p.probabilities,
                    "face_found": p.face_found,
                    "latency_ms": p.latency_ms,
                    "error": p.error,
                }
                for p in preds
            ],
        }
    )


@teacher_required
@require_POST
def release_results(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    classes.release_results(assignment=assignment, released=request.POST.get("released") == "1")
    messages.success(
        request, "Students can now see class results." if assignment.results_released else "Results hidden."
    )
    return redirect("assignment", public_id=public_id)


@login_required
def model_card(request, key):
    model = get_object_or_404(ModelVersion.objects.select_related("label_set", "base", "created_by"), key=key)
    card = selectors.model_card(model)
    # The job page is the teacher's own; everyone else sees who trained the model and when.
    card["job_is_mine"] = bool(card["job"] and card["job"].created_by_id == request.user.pk)
    return render(request, "classroom/model_card.html", {"model": model, **card})
