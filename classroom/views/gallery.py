"""The class test gallery: the teacher publishes it, class members see its images
(through this authenticated view only), students test the models with them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from inference.intake import IntakeError

from .. import selectors
from ..forms import GalleryPickForm, PublishGalleryForm
from ..services import gallery as gallery_service
from ..services import submissions
from .access import submitter_required, teacher_required
from .assignments import _assignment_page


def _gallery_page(request, classroom, form=None, status=200):
    images = selectors.class_gallery(classroom).order_by("source", "label", "public_id")
    context = {
        "classroom": classroom,
        "form": form or PublishGalleryForm(),
        "summary": selectors.gallery_summary(classroom),
        "images": images,
        "sources": sorted({(i.source, i.synthetic) for i in images}),
        "max_per_group": gallery_service.MAX_PER_GROUP,
    }
    return render(request, "classroom/gallery.html", context, status=status)


@teacher_required
def gallery(request, public_id):
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    if request.method != "POST":
        return _gallery_page(request, classroom)
    form = PublishGalleryForm(request.POST)
    if form.is_valid():
        try:
            report = gallery_service.publish_gallery(
                classroom=classroom,
                teacher=request.user,
                dataset=form.cleaned_data["dataset"],
                per_group=form.cleaned_data["per_group"],
            )
        except gallery_service.GalleryError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, report.message(form.cleaned_data["per_group"]))
            return redirect("gallery", public_id=classroom.public_id)
    return _gallery_page(request, classroom, form=form, status=400)


@teacher_required
@require_POST
def remove_gallery(request, public_id):
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    source = request.POST.get("source") or None
    n = gallery_service.remove_gallery(classroom=classroom, teacher=request.user, source=source)
    message = ngettext(
        "Removed %(n)s image from the gallery. Tests made with them keep their results.",
        "Removed %(n)s images from the gallery. Tests made with them keep their results.",
        n,
    )
    messages.success(request, message % {"n": n})
    return redirect("gallery", public_id=classroom.public_id)


@login_required
@require_GET
def gallery_image(request, public_id):
    """The image itself, for members of its class only (404 for anyone else); never a public URL."""
    image = selectors.gallery_image_for(request.user, public_id)
    try:
        with default_storage.open(image.photo, "rb") as fh:
            data = fh.read()
    except OSError:
        raise Http404("This image is missing.")
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = 'inline; filename="gallery.jpg"'
    return response


@submitter_required
@require_POST
def submit_gallery(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    form = GalleryPickForm(request.POST, assignment=assignment, gallery=selectors.gallery_for(assignment))
    if form.is_valid():
        try:
            submission = submissions.submit_photo(
                assignment=assignment,
                student=request.user,
                gallery_image=form.cleaned_data["gallery_image"],
                expected_label=form.cleaned_data.get("expected_label", ""),
                note=form.cleaned_data["note"],
            )
        except (IntakeError, submissions.SubmissionError) as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("submission", public_id=submission.public_id)
    return _assignment_page(request, assignment, gallery_form=form, status=400, preview=request.user.is_teacher)
