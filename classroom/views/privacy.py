"""The privacy page, consent confirmation, and a teacher's export and deletion
of student data. Thin: lookups are scoped, services do the work."""

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import selectors
from ..forms import ConfirmDeleteForm, ConsentForm
from ..models import MAX_KEEP_PHOTOS_DAYS
from ..services import privacy
from .access import teacher_required


@require_GET
def privacy_page(request):
    """Public: what is stored, for how long, and why, in plain words."""
    return render(request, "classroom/privacy.html", {"max_keep_days": MAX_KEEP_PHOTOS_DAYS})


@teacher_required
@require_POST
def confirm_consent(request, public_id):
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    form = ConsentForm(request.POST)
    if form.is_valid():
        privacy.confirm_consent(classroom=classroom, teacher=request.user, policy=form.cleaned_data["policy"])
        messages.success(request, gettext("Consent confirmed. Students can now submit photos."))
    else:
        messages.error(
            request, gettext("Tick the box to confirm the school's consent policy; students cannot submit until then.")
        )
    return redirect("classroom", public_id=public_id)


@teacher_required
@require_POST
def export_student(request, public_id, student_id):
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    student = selectors.student_in_class(classroom, student_id)
    data = privacy.export_student_data(classroom=classroom, student=student, actor=request.user)
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
    name = slugify(student.username) or "student"
    response["Content-Disposition"] = f'attachment; filename="ethitech-{name}.json"'
    return response


@teacher_required
@require_http_methods(["GET", "POST"])
def delete_student(request, public_id, student_id):
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    student = selectors.student_in_class(classroom, student_id)
    form = ConfirmDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = privacy.delete_student_data(classroom=classroom, student=student, actor=request.user)
        if result["account_deleted"]:
            message = gettext("Deleted %(student)s's %(n)s test(s) and their account. This cannot be undone.")
        else:
            message = gettext("Deleted %(student)s's %(n)s test(s). This cannot be undone.")
        messages.success(request, message % {"student": student, "n": result["submissions"]})
        return redirect("classroom", public_id=public_id)
    n_tests = student.submissions.filter(assignment__classroom=classroom).count()
    return render(
        request,
        "classroom/confirm_delete.html",
        {
            "classroom": classroom,
            "form": form,
            "title": gettext("Delete %(student)s's data?") % {"student": student},
            "what": [
                gettext(
                    "%(n)s test(s) %(student)s submitted in %(class)s, with every model's answers and any photo "
                    "still stored"
                )
                % {"n": n_tests, "student": student, "class": classroom.name},
                gettext("%(student)s's place in this class") % {"student": student},
                gettext("their account, if you created it and they are in no other class"),
            ],
            "button": gettext("Delete this student's data"),
        },
        status=400 if request.method == "POST" else 200,
    )


@teacher_required
@require_http_methods(["GET", "POST"])
def delete_classroom(request, public_id):
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    form = ConfirmDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name = classroom.name
        privacy.delete_classroom(classroom=classroom, actor=request.user)
        messages.success(request, gettext("Deleted %(name)s and everything in it.") % {"name": name})
        return redirect("home")
    return render(
        request,
        "classroom/confirm_delete.html",
        {
            "classroom": classroom,
            "form": form,
            "title": gettext("Delete %(name)s?") % {"name": classroom.name},
            "what": [
                gettext(
                    "its %(n)s experiment(s), every test submitted to them, every model answer and any photo still "
                    "stored"
                )
                % {"n": classroom.assignments.count()},
                gettext(
                    "its %(n)s student(s)' places in the class, and the accounts you created for them unless they "
                    "are in another class"
                )
                % {"n": classroom.enrollments.count()},
            ],
            "button": gettext("Delete the class"),
        },
        status=400 if request.method == "POST" else 200,
    )
