from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from .. import auth_tokens, selectors
from ..forms import AddStudentsForm, ClassroomForm, ConsentForm, RosterForm
from ..lessons.localize import show_in_language
from ..services import accounts, classes
from .access import teacher_required


@teacher_required
@require_POST
def create_classroom(request):
    form = ClassroomForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Give the class a name."))
        return redirect("home")
    classroom = classes.create_classroom(teacher=request.user, name=form.cleaned_data["name"])
    return redirect("classroom", public_id=classroom.public_id)


@login_required
def classroom_detail(request, public_id):
    classroom = selectors.classroom_for_member(request.user, public_id)
    # Titles of experiments made from a lesson, in the reader's language where the teacher left them as written.
    context = {"classroom": classroom, "assignments": [show_in_language(a) for a in classroom.assignments.all()]}
    if request.user.is_teacher:
        context.update(
            roster=selectors.roster(classroom),
            add_form=AddStudentsForm(),
            roster_form=RosterForm(),
            consent_form=ConsentForm(),
            audit_entries=selectors.recent_audit_entries(classroom),
        )
    return render(request, "classroom/classroom.html", context)


def _show_credentials(request, classroom, credentials):
    # Passwords are shown once, in the response that creates them: they are never stored anywhere
    # (not in the session table either), so only their hashes exist once this page is closed.
    response = render(request, "classroom/credentials.html", {"classroom": classroom, "rows": credentials})
    response["Cache-Control"] = "no-store"
    return response


@teacher_required
@require_POST
def add_students(request, public_id):
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    form = AddStudentsForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose how many students to add (1 to 200)."))
        return redirect("classroom", public_id=public_id)
    credentials = accounts.add_numbered_students(classroom=classroom, count=form.cleaned_data["count"])
    return _show_credentials(request, classroom, credentials)


@teacher_required
@require_POST
def upload_roster(request, public_id):
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    form = RosterForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            rows = accounts.parse_roster_csv(form.cleaned_data["roster"])
            credentials = accounts.add_students(classroom=classroom, rows=rows)
        except accounts.RosterError as exc:
            messages.error(request, gettext("Nobody was added. %(reason)s") % {"reason": exc})
        else:
            return _show_credentials(request, classroom, credentials)
    else:
        reason = " ".join(form.errors.get("roster", []))
        messages.error(request, gettext("Nobody was added. %(reason)s") % {"reason": reason})
    return redirect("classroom", public_id=public_id)


@teacher_required
def credentials(request, public_id):
    """Without new passwords to show: says where they went (shown once, when created)."""
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    return render(request, "classroom/credentials.html", {"classroom": classroom, "rows": []})


@teacher_required
@require_POST
def reset_password(request, public_id, student_id):
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    student = selectors.student_in_class(classroom, student_id)
    try:
        credential = accounts.reset_student_password(classroom=classroom, student=student)
    except PermissionError as exc:
        messages.error(request, str(exc))
        return redirect("classroom", public_id=public_id)
    return _show_credentials(request, classroom, [credential])


@teacher_required
@require_POST
def revoke_tokens(request, public_id, student_id):
    """End a student's API tokens (a lost laptop, a shared script)."""
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    student = selectors.student_in_class(classroom, student_id)
    n = auth_tokens.revoke(student)
    if n:
        message = ngettext("%(student)s: %(n)s API token ended.", "%(student)s: %(n)s API tokens ended.", n)
    else:
        message = gettext("%(student)s had no API token.")
    messages.success(request, message % {"student": student, "n": n})
    return redirect("classroom", public_id=public_id)


@teacher_required
@require_POST
def join_code(request, public_id):
    classroom = selectors.classroom_for_teacher(request.user, public_id)
    action = request.POST.get("action")
    if action == "rotate":
        classes.rotate_join_code(classroom=classroom)
        messages.success(request, gettext("New join code created; the old one no longer works."))
    elif action in ("enable", "disable"):
        classes.set_join_enabled(classroom=classroom, enabled=action == "enable")
        if action == "enable":
            messages.success(request, gettext("Joining with the code is enabled."))
        else:
            messages.success(request, gettext("Joining with the code is disabled."))
    return redirect("classroom", public_id=public_id)
