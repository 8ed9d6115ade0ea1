"""Consent, and a teacher's control over student data: export, deletion of a
student's data, deletion of a whole class. Every action is audited.

Stored photos are removed only after the database transaction has committed,
so a rolled-back deletion never loses a photo that is still referenced; a file
whose removal is interrupted is caught by the periodic purge (retention.py).
"""

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from ..audits.services import delete_audits
from ..lab.services import delete_lab_models
from ..models import AuditLog, Classroom, CollectionAudit, Enrollment, LabModel, LessonResponse, Submission, User
from . import audit


def confirm_consent(*, classroom: Classroom, teacher: User, policy: str = "") -> None:
    """Record that the teacher confirmed the school's consent policy covers this class."""
    if classroom.teacher_id != teacher.pk:
        raise PermissionError(gettext("Only the class's teacher can confirm consent."))
    classroom.consent_confirmed_at = timezone.now()
    classroom.consent_confirmed_by = teacher
    classroom.consent_policy = policy.strip()[:300]
    classroom.save(update_fields=["consent_confirmed_at", "consent_confirmed_by", "consent_policy"])
    audit.record(
        actor=teacher, action=AuditLog.Action.CONSENT_CONFIRMED, classroom=classroom, policy=classroom.consent_policy
    )


def remove_files_after_commit(names: list[str]) -> None:
    names = [n for n in names if n]

    def remove():
        for name in names:
            default_storage.delete(name)

    if names:
        transaction.on_commit(remove)


def _photo_state(sub: Submission) -> str:
    if sub.photo_deleted_at:
        return f"deleted {sub.photo_deleted_at.isoformat()}"
    if sub.photo_delete_after:
        return f"kept until {sub.photo_delete_after.isoformat()}"
    return "stored until every model has answered" if sub.photo else "not stored"


def export_student_data(*, classroom: Classroom, student: User, actor: User) -> dict:
    """Everything stored about a student in this class, as JSON-ready data."""
    enrollment = Enrollment.objects.get(classroom=classroom, student=student)
    submissions = (
        Submission.objects.filter(student=student, assignment__classroom=classroom)
        .select_related("assignment")
        .prefetch_related("predictions__model_version")
        .order_by("created_at")
    )
    data = {
        "exported_at": timezone.now().isoformat(),
        "classroom": classroom.name,
        "student": {
            "id": str(student.public_id),
            "username": student.username,
            "display_name": student.display_name,
            "joined_class_at": enrollment.joined_at.isoformat(),
            "last_login": student.last_login.isoformat() if student.last_login else None,
        },
        "submissions": [
            {
                "id": str(sub.public_id),
                "experiment": sub.assignment.title,
                "submitted_at": sub.created_at.isoformat(),
                "expected_group": sub.expected_label,
                "known_group": sub.true_label,  # set when the photo came from the class's test gallery
                "note": sub.note,
                "photo": _photo_state(sub),
                "predictions": [
                    {
                        "model": p.model_version.key,
                        "model_name": p.model_version.name,
                        "status": p.status,
                        "guess": p.label,
                        "probabilities": p.probabilities,
                        "face_found": p.face_found,
                        "error": p.error,
                        # What the model looked at: a small grid of numbers, never a copy of the photo.
                        "saliency": p.saliency,
                        "finished_at": p.finished_at.isoformat() if p.finished_at else None,
                    }
                    for p in sub.predictions.all()
                ],
            }
            for sub in submissions
        ],
        # Predictions made before testing and reflections after, per experiment.
        "lesson_answers": [
            {
                "experiment": r.assignment.title,
                "kind": r.kind,
                "question": r.question_text,
                "answer": r.answer,
                "answered_at": r.updated_at.isoformat(),
            }
            for r in LessonResponse.objects.filter(student=student, assignment__classroom=classroom)
            .select_related("assignment")
            .order_by("assignment__created_at", "kind", "question")
        ],
        # Models the student trained in a lab (their mix and how they did on held-out images).
        "lab_models": [
            {
                "experiment": m.assignment.title,
                "name": m.name,
                "trained_at": m.created_at.isoformat(),
                "training_mix": m.counts,
                "status": m.job.status,
                "model": m.job.result.key if m.job.result else None,
                "held_out_accuracy": (m.job.result.metrics or {}).get("overall_accuracy") if m.job.result else None,
            }
            for m in LabModel.objects.filter(trained_by=student, assignment__classroom=classroom)
            .select_related("assignment", "job", "job__result")
            .order_by("created_at")
        ],
        # Collections the student audited: what each model estimated (the photos are long gone).
        "audits": [
            {
                "experiment": a.assignment.title,
                "title": a.title,
                "started_at": a.created_at.isoformat(),
                "images": a.image_count,
                "status": a.status,
                "estimates": {r.model_version.key: (r.estimates or {}).get("methods") for r in a.runs.all()},
            }
            for a in CollectionAudit.objects.filter(created_by=student, assignment__classroom=classroom)
            .select_related("assignment")
            .prefetch_related("runs__model_version")
            .order_by("created_at")
        ],
    }
    audit.record(
        actor=actor,
        action=AuditLog.Action.STUDENT_EXPORTED,
        classroom=classroom,
        subject=student,
        submissions=len(data["submissions"]),
    )
    return data


@transaction.atomic
def delete_student_data(*, classroom: Classroom, student: User, actor: User) -> dict:
    """Delete a student's tests (and photos) in this class and remove them from it.

    The account itself goes too when this teacher created it and the student is
    in no other class; an account shared with another class keeps its data there.
    """
    if classroom.teacher_id != actor.pk:
        raise PermissionError(gettext("Only the class's teacher can delete its students' data."))
    submissions = Submission.objects.filter(student=student, assignment__classroom=classroom)
    photos = list(submissions.exclude(photo="").values_list("photo", flat=True))
    n_submissions = submissions.count()
    n_lab = delete_lab_models(LabModel.objects.filter(trained_by=student, assignment__classroom=classroom))
    n_audits = delete_audits(CollectionAudit.objects.filter(created_by=student, assignment__classroom=classroom))
    submissions.delete()  # predictions cascade
    n_answers, _ = LessonResponse.objects.filter(student=student, assignment__classroom=classroom).delete()
    Enrollment.objects.filter(classroom=classroom, student=student).delete()
    account_deleted = student.created_by_id == actor.pk and not student.enrollments.exists()
    audit.record(
        actor=actor,
        action=AuditLog.Action.STUDENT_DELETED,
        classroom=classroom,
        subject=student,
        submissions=n_submissions,
        photos=len(photos),
        lesson_answers=n_answers,
        lab_models=n_lab,
        audits=n_audits,
        account_deleted=account_deleted,
    )
    if account_deleted:
        student.delete()
    remove_files_after_commit(photos)
    return {
        "submissions": n_submissions,
        "photos": len(photos),
        "lesson_answers": n_answers,
        "account_deleted": account_deleted,
    }


@transaction.atomic
def delete_classroom(*, classroom: Classroom, actor: User) -> dict:
    """Delete a class with everything in it: experiments, tests, answers, photos,
    and the student accounts its teacher created that are in no other class."""
    if classroom.teacher_id != actor.pk:
        raise PermissionError(gettext("Only the class's teacher can delete it."))
    submissions = Submission.objects.filter(assignment__classroom=classroom)
    photos = list(submissions.exclude(photo="").values_list("photo", flat=True))
    n_submissions = submissions.count()
    student_ids = list(classroom.enrollments.values_list("student_id", flat=True))
    n_assignments = classroom.assignments.count()
    # The class's test gallery: private copies of dataset images, deleted with the class.
    gallery = list(classroom.gallery_images.values_list("photo", flat=True))
    audit.record(
        actor=actor,
        action=AuditLog.Action.CLASS_DELETED,
        classroom=classroom,
        experiments=n_assignments,
        submissions=n_submissions,
        photos=len(photos),
        students=len(student_ids),
        gallery_images=len(gallery),
    )
    delete_lab_models(LabModel.objects.filter(assignment__classroom=classroom))  # files too
    delete_audits(CollectionAudit.objects.filter(assignment__classroom=classroom))  # a running one's photos too
    classroom.delete()  # assignments, submissions, predictions and enrollments cascade
    orphans = User.objects.filter(
        pk__in=student_ids, role=User.Role.STUDENT, created_by=actor, enrollments__isnull=True
    )
    orphans.delete()
    remove_files_after_commit(photos + gallery)
    return {
        "experiments": n_assignments,
        "submissions": n_submissions,
        "photos": len(photos),
        "students": len(student_ids),
    }
