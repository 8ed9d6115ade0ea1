"""Audit pages: the experiment's audits and the form to start one, an audit's report (polled
while it runs), cancel, delete, and the teacher's switch for students."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from .. import selectors
from ..views.access import teacher_required
from . import selectors as audit_selectors
from . import services
from .forms import AuditForm, AuditSettingsForm


@login_required
def audits(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    if not services.can_audit(request.user, assignment):
        raise Http404("Audits are not switched on for this experiment.")
    teacher = request.user.is_teacher
    form = AuditForm(request.POST or None, request.FILES or None, assignment=assignment, teacher=teacher)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        gallery = d.get("source") == "gallery"
        try:
            audit = services.create_audit(
                assignment=assignment,
                user=request.user,
                models=list(d["models"]),
                title=d["title"],
                uploads=None if gallery else d["files"],
                gallery_counts=form.gallery_counts() if gallery else None,
            )
        except services.AuditError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, gettext("The audit has started. This page shows its progress."))
            return redirect("audit", public_id=audit.public_id)
    context = {
        "assignment": assignment,
        "classroom": assignment.classroom,
        "form": form,
        "audits": [audit_selectors.in_reader_language(a) for a in audit_selectors.audits_for(assignment, request.user)],
        "settings_form": AuditSettingsForm(initial={"enabled": assignment.audits_enabled}) if teacher else None,
    }
    return render(request, "classroom/audits/list.html", context, status=400 if request.method == "POST" else 200)


@teacher_required
@require_POST
def audit_settings(request, public_id):
    assignment = selectors.assignment_for(request.user, public_id)
    form = AuditSettingsForm(request.POST)
    form.is_valid()
    services.set_enabled(assignment=assignment, enabled=form.cleaned_data.get("enabled", False))
    messages.success(
        request,
        gettext("Students can now audit collections: they see an “Audit a collection” link on the experiment page.")
        if assignment.audits_enabled
        else gettext("Students can no longer start audits."),
    )
    if assignment.audits_enabled and not assignment.classroom.consent_confirmed:
        messages.warning(
            request,
            gettext(
                "Confirm the school's consent policy on the class page: until then, students cannot upload photos "
                "to audit."
            ),
        )
    return redirect("audits", public_id=public_id)


@login_required
@require_GET
def audit_detail(request, public_id):
    audit = audit_selectors.in_reader_language(audit_selectors.audit_for(request.user, public_id))
    teacher = request.user.is_teacher
    context = {
        "audit": audit,
        "assignment": audit.assignment,
        "state": audit_selectors.status(audit),
        "report": audit_selectors.report(audit) if audit.status == audit.Status.DONE else None,
        "per_image": audit_selectors.per_image(audit) if teacher and audit.is_final else [],
        "can_change": request.user.pk in (audit.created_by_id, audit.assignment.classroom.teacher_id),
        "show_skipped": teacher or audit.created_by_id == request.user.pk,
    }
    return render(request, "classroom/audits/detail.html", context)


@login_required
@require_GET
def audit_status(request, public_id):
    return JsonResponse(audit_selectors.status(audit_selectors.audit_for(request.user, public_id)))


@login_required
@require_POST
def cancel_audit(request, public_id):
    audit = audit_selectors.audit_for(request.user, public_id)
    try:
        services.cancel_audit(audit=audit, user=request.user)
    except PermissionError:
        raise Http404()
    messages.success(request, gettext("Audit cancelled. Its photos have been deleted."))
    return redirect("audit", public_id=public_id)


@login_required
@require_POST
def delete_audit(request, public_id):
    audit = audit_selectors.audit_for(request.user, public_id)
    assignment_id = audit.assignment.public_id
    try:
        services.delete_audit(audit=audit, user=request.user)
    except PermissionError:
        raise Http404()
    messages.success(request, gettext("Audit deleted, with everything the models answered."))
    return redirect("audits", public_id=assignment_id)
