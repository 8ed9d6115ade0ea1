"""The privacy page, consent confirmation, and a teacher's export and deletion
of student data. Thin: lookups are scoped, services do the work."""

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import roster, selectors
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
        messages.success(request, "Consent confirmed. Students can now submit photos.")
    else:
        messages.error(
            request, "Tick the box to confirm the school's consent policy; students cannot submit until then."
        )
    return redirect("classroom", public_id=public_id)


@teacher_required
@require_POST
def export_student(request, public_id, student_id):
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    student = roster.student_in_class(classroom, student_id)
    data = privacy.export_student_data(classroom=classroom, student=student, actor=request.user)
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
    name = slugify(student.username) or "student"
    response["Content-Disposition"] = f'attachment; filename="ethitech-{name}.json"'
    return response


@teacher_required
@require_http_methods(["GET", "POST"])
def delete_student(request, public_id, student_id):
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    student = roster.student_in_class(classroom, student_id)
    form = ConfirmDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = privacy.delete_student_data(classroom=classroom, student=student, actor=request.user)
        account = " and their account" if result["account_deleted"] else ""
        messages.success(
            request, f"Deleted {student}'s {result['submissions']} test(s){account}. This cannot be undone."
        )
        return redirect("classroom", public_id=public_id)
    n_tests = student.submissions.filter(assignment__classroom=classroom).count()
    return render(
        request,
        "classroom/confirm_delete.html",
        {
            "classroom": classroom,
            "form": form,
            "title": f"Delete {student}'s data?",
            "what": [
                f"{n_tests} test(s) {student} submitted in {classroom.name}, with every model's answers and any "
                "photo still stored",
                f"{student}'s place in this class",
                "their account, if you created it and they are in no other class",
            ],
            "button": "Delete this student's data",
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
        messages.success(request, f"Deleted {name} and everything in it.")
        return redirect("home")
    return render(
        request,
        "classroom/confirm_delete.html",
        {
            "classroom": classroom,
            "form": form,
            "title": f"Delete {classroom.name}?",
            "what": [
                f"its {classroom.assignments.count()} experiment(s), every test submitted to them, every model "
                "answer and any photo still stored",
                f"its {classroom.enrollments.count()} student(s)' places in the class, and the accounts you created "
                "for them unless they are in another class",
            ],
            "button": "Delete the class",
        },
        status=400 if request.method == "POST" else 200,
    )
