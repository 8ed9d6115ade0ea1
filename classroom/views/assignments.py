import dataclasses

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from inference.intake import IntakeError
from inference.models import ModelVersion

from .. import results as res
from .. import selectors
from ..forms import GalleryPickForm, NoteForm, SubmissionForm
from ..lessons import answers as lesson_answers
from ..lessons import catalogue
from ..lessons import selectors as lesson_selectors
from ..lessons.localize import show_in_language
from ..lessons.views import answer_forms
from ..markup import render_markdown
from ..services import classes, submissions
from ..stored_text import translated
from ..visibility import results_visible
from .access import submitter_required, teacher_required


def _student_context(request, assignment, gallery, form, gallery_form) -> dict:
    """The student's path on one page: predict, test, observe, explain (also the teacher's preview)."""
    progress = lesson_selectors.my_progress(assignment, request.user)
    predict_form, reflect_form = answer_forms(assignment, request.user, progress)
    context = {
        "form": form or SubmissionForm(assignment=assignment),
        "gallery_form": gallery_form or GalleryPickForm(assignment=assignment, gallery=gallery),
        "history": selectors.submissions_of(request.user, assignment),
        "progress": progress,
        "predict_form": predict_form,
        "reflect_form": reflect_form,
    }
    if progress.tests and results_visible(request.user, assignment):
        # Observe: the student's own numbers beside the class's and the model card's.
        scope = res.assignment_scope(assignment, request.user)
        if request.user.is_teacher:
            scope = dataclasses.replace(scope, viewer_student=None)
        context["observe"] = res.compute(scope, trend=False, pairs=False)
    return context


def _assignment_page(request, assignment, form=None, status=200, gallery_form=None, preview=False):
    show_in_language(assignment)
    gallery = selectors.gallery_for(assignment)
    context = {
        "assignment": assignment,
        "classroom": assignment.classroom,
        "instructions_html": render_markdown(assignment.instructions),
        "models": assignment.model_versions.select_related("label_set"),
        "is_open": submissions.assignment_is_open(assignment),
        "results_visible": results_visible(request.user, assignment),
        "n_gallery": gallery.count(),
        "gallery_synthetic": gallery.filter(synthetic=True).exists(),
        "uploads_allowed": selectors.uploads_allowed(assignment),
        "preview": preview,
        "lesson": catalogue.get_lesson(assignment.lesson_key),
    }
    if request.user.is_student or preview:
        context.update(_student_context(request, assignment, gallery, form, gallery_form))
    else:
        context["n_submissions"] = assignment.submissions.filter(preview=False).count()
        context["n_preview"] = assignment.submissions.filter(preview=True).count()
    return render(request, "classroom/assignment.html", context, status=status)


@login_required
def assignment_detail(request, public_id):
    return _assignment_page(request, selectors.assignment_for(request.user, public_id))


@teacher_required
def preview_assignment(request, public_id):
    """The teacher tries the experiment as a student would; preview tests never count."""
    return _assignment_page(request, selectors.assignment_for(request.user, public_id), preview=True)


@submitter_required
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
    return _assignment_page(request, assignment, form=form, status=400, preview=request.user.is_teacher)


def _answers(submission):
    return [(_shown(p), lesson_answers.explain(p, submission)) for p in selectors.predictions_of(submission)]


def _shown(prediction):
    """The error its worker stored in English, in the page's language (on this instance only)."""
    prediction.error = translated(prediction.error)
    return prediction


@login_required
def submission_detail(request, public_id):
    submission = selectors.submission_for(request.user, public_id)
    assignment = show_in_language(submission.assignment)
    mine = submission.student_id == request.user.pk
    progress = lesson_selectors.my_progress(assignment, request.user) if mine else None
    return render(
        request,
        "classroom/submission.html",
        {
            "submission": submission,
            "assignment": assignment,
            "answers": _answers(submission),
            "show_student": request.user.is_teacher and not submission.preview,
            "mine": mine,
            "progress": progress,
            "note_form": NoteForm(initial={"note": submission.note}) if mine else None,
            "is_open": submissions.assignment_is_open(assignment),
            "back_url": "preview_assignment" if submission.preview else "assignment",
            **_saliency_base(submission),
        },
    )


def _saliency_base(submission) -> dict:
    """What a saliency map is drawn over: the gallery image, the upload while it is kept (at the
    face the model looked at), or a plain face outline once the photo is gone."""
    if submission.gallery_image_id:
        return {"saliency_base": reverse("gallery_image", args=[submission.gallery_image.public_id])}
    if submission.photo:
        from ..services.predictions import face_boxes

        boxes = face_boxes(submission.face_box)
        box = boxes.get("haar") or next(iter(boxes.values()), [])
        return {
            "saliency_base": reverse("submission_photo", args=[submission.public_id]),
            "saliency_box": ",".join(str(int(v)) for v in box) if len(box) == 4 else "",
        }
    return {"saliency_base": static("img/face-outline.svg")}


@login_required
def update_note(request, public_id):
    if request.user.is_teacher:
        raise Http404()  # only its student writes the note: role, then method, then scope
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    submission = selectors.submission_for(request.user, public_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            submissions.update_note(submission=submission, student=request.user, note=form.cleaned_data["note"])
        except PermissionError:
            raise Http404()
        messages.success(request, gettext("Note saved."), extra_tags="at-note")
    else:
        errors = form.errors.get("note") or [gettext("The note could not be saved.")]
        messages.error(request, " ".join(errors), extra_tags="at-note")
    return redirect(f"{reverse('submission', args=[public_id])}#note")


@login_required
def submission_photo(request, public_id):
    """The uploaded photo, to its student and teacher only, while it is still kept."""
    submission = selectors.submission_for(request.user, public_id)
    if not submission.photo or submission.gallery_image_id:
        raise Http404("The photo has been deleted.")
    try:
        fh = default_storage.open(submission.photo, "rb")
    except OSError:
        raise Http404("The photo has been deleted.")
    response = FileResponse(fh, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def submission_status(request, public_id):
    """Polled by the submission page so answers appear without reloading."""
    submission = selectors.submission_for(request.user, public_id)
    answers = _answers(submission)
    return JsonResponse(
        {
            "done": all(p.is_final for p, _ in answers),
            "predictions": [
                {
                    **explained,
                    "model": p.model_version.key,
                    "status": p.status,
                    "status_display": p.get_status_display(),
                    "label": p.label,
                    "probabilities": p.probabilities,
                    # A gallery image is a face crop: nobody looked for a face in it.
                    "face_found": None if submission.true_label else p.face_found,
                    "latency_ms": p.latency_ms,
                    "error": p.error,
                    "saliency": p.saliency,
                }
                for p, explained in answers
            ],
        }
    )


@teacher_required
@require_POST
def release_results(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    classes.release_results(assignment=assignment, released=request.POST.get("released") == "1")
    messages.success(
        request,
        gettext("Students can now see class results.") if assignment.results_released else gettext("Results hidden."),
    )
    return redirect("assignment", public_id=public_id)


@login_required
def model_card(request, key):
    # Only models this user may see: another teacher's or another class's model is a 404.
    visible = selectors.visible_models(request.user).select_related("label_set", "base", "created_by")
    model = get_object_or_404(visible, key=key)
    card = selectors.model_card(model)
    # A lab model's card never names the student who trained it, except to their teacher.
    card["show_trainer"] = model.scope != ModelVersion.Scope.CLASS or request.user.is_teacher
    # The job page is the teacher's own; everyone else sees who trained the model and when.
    card["job_is_mine"] = bool(request.user.is_teacher and card["job"] and card["job"].created_by_id == request.user.pk)
    # Every version of this model the user may see, newest first (versions never change).
    card["versions"] = list(visible.filter(lineage=model.lineage).order_by("-version"))
    card["evaluate_datasets"] = selectors.evaluate_datasets(request.user, model)
    card["min_tests"] = settings.MIN_TESTS_PER_GROUP
    # Stored in English by the training code; shown in the reader's language where it is a known text.
    card["data_source"] = translated(model.data_source)
    card["data_source_says_synthetic"] = "synthetic" in model.data_source.lower()
    return render(request, "classroom/model_card.html", {"model": model, **card})


@teacher_required
@require_POST
def evaluate_model(request, key):
    """Start an evaluation job for the card's model; its page follows the job."""
    from training.composition import CompositionError
    from training.models import TrainingJob
    from training.services.jobs import start_job

    model = get_object_or_404(selectors.visible_models(request.user), key=key)
    allowed = {d.key for d in selectors.evaluate_datasets(request.user, model)}
    if not allowed:
        raise Http404("Only an operator, or the teacher who trained it, can evaluate this model.")
    if request.POST.get("dataset") not in allowed:
        messages.error(request, gettext("Choose one of the datasets listed: they have this model's groups."))
        return redirect("model_card", key=key)
    try:
        params = {"model": model.key, "dataset": request.POST["dataset"], "test_per_group": 500}
        job = start_job(kind=TrainingJob.Kind.EVALUATE, created_by=request.user, params=params)
    except CompositionError as exc:
        messages.error(request, str(exc))
        return redirect("model_card", key=key)
    messages.success(
        request, gettext("Evaluation queued. This page follows it; the card shows the new numbers when done.")
    )
    return redirect("training_job", public_id=job.public_id)
