"""Role-scoped lookups of the students in a teacher's class.

Students appear in URLs by their random public id, never by the database id,
and only within a class of the teacher asking: anything else is a 404.
"""

from django.http import Http404

from .models import AuditLog, Classroom, User


def student_in_class(classroom: Classroom, public_id) -> User:
    student = User.objects.filter(public_id=public_id, role=User.Role.STUDENT, enrollments__classroom=classroom).first()
    if student is None:
        raise Http404("No such student in this class.")
    return student


def recent_audit_entries(classroom: Classroom, limit: int = 20):
    return AuditLog.objects.filter(classroom=classroom).order_by("-created_at", "-id")[:limit]
