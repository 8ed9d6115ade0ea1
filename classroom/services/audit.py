"""The audit log of teacher actions on student data."""

from ..models import AuditLog, Classroom, User


def record(*, actor: User, action: str, classroom: Classroom | None = None, subject: User | None = None, **details):
    """Write one entry. `subject` is stored as the student's public id only."""
    return AuditLog.objects.create(
        actor=actor,
        actor_username=actor.username,
        action=action,
        classroom=classroom,
        classroom_name=classroom.name if classroom else "",
        subject=subject.public_id if subject else None,
        details=details,
    )
