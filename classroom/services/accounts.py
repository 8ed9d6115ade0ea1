"""Teacher sign-up and the student accounts a teacher creates."""

import csv
import io
import re
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils.translation import gettext

from ..credentials import generate_password, generate_username
from ..models import AuditLog, Classroom, Enrollment, User
from . import audit

MAX_STUDENTS_PER_BATCH = 200
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")


class RosterError(ValueError):
    """The roster cannot be used; the message names the line and the problem."""


@dataclass(frozen=True)
class RosterRow:
    display_name: str
    username: str = ""


@dataclass(frozen=True)
class Credential:
    """A login shown to the teacher exactly once."""

    display_name: str
    username: str
    password: str


def signup_teacher(*, username: str, email: str, password: str, display_name: str = "") -> User:
    user = User(username=username, email=email, role=User.Role.TEACHER, display_name=display_name)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    return user


def parse_roster_csv(text: str) -> list[RosterRow]:
    """Parse `display name[,username]` lines; a header row is optional."""
    rows: list[RosterRow] = []
    seen: set[str] = set()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        for lineno, fields in enumerate(reader, start=1):
            fields = [f.strip() for f in fields]
            if not any(fields):
                continue
            if lineno == 1 and fields[0].lower().replace(" ", "_") in ("display_name", "name"):
                continue
            if len(fields) > 2:
                raise RosterError(
                    gettext("Line %(line)s: expected 'display name' or 'display name,username', found %(n)s columns.")
                    % {"line": lineno, "n": len(fields)}
                )
            name = fields[0]
            username = fields[1].lower() if len(fields) > 1 else ""
            if not name:
                raise RosterError(gettext("Line %(line)s: the display name is empty.") % {"line": lineno})
            if len(name) > 120:
                raise RosterError(
                    gettext("Line %(line)s: the display name is longer than 120 characters.") % {"line": lineno}
                )
            if username:
                if not USERNAME_RE.match(username):
                    raise RosterError(
                        gettext(
                            "Line %(line)s: username '%(username)s' must be 3-40 characters: lowercase letters, "
                            "digits, '.', '-' or '_'."
                        )
                        % {"line": lineno, "username": username}
                    )
                if username in seen:
                    raise RosterError(
                        gettext("Line %(line)s: username '%(username)s' appears twice in the file.")
                        % {"line": lineno, "username": username}
                    )
                seen.add(username)
            rows.append(RosterRow(display_name=name, username=username))
    except csv.Error as exc:
        raise RosterError(
            gettext("Line %(line)s: this is not valid CSV (%(error)s).") % {"line": reader.line_num, "error": exc}
        ) from exc
    if not rows:
        raise RosterError(gettext("The roster has no students in it."))
    if len(rows) > MAX_STUDENTS_PER_BATCH:
        raise RosterError(
            gettext("At most %(max)s students can be added at once; the file has %(n)s.")
            % {"max": MAX_STUDENTS_PER_BATCH, "n": len(rows)}
        )
    return rows


def _free_username() -> str:
    for _ in range(50):
        candidate = generate_username()
        if not User.objects.filter(username=candidate).exists():
            return candidate
    raise RuntimeError("Could not find a free username; try again.")


@transaction.atomic
def add_students(*, classroom: Classroom, rows: list[RosterRow]) -> list[Credential]:
    """Create student accounts, enrol them, and return their logins (shown once)."""
    taken = set(
        User.objects.filter(username__in=[r.username for r in rows if r.username]).values_list("username", flat=True)
    )
    if taken:
        raise RosterError(
            gettext("These usernames are already taken: %(usernames)s. Leave them blank to generate new ones.")
            % {"usernames": ", ".join(sorted(taken))}
        )
    credentials = []
    for row in rows:
        username = row.username or _free_username()
        password = generate_password()
        student = User(
            username=username, display_name=row.display_name, role=User.Role.STUDENT, created_by=classroom.teacher
        )
        student.set_password(password)
        student.save()
        Enrollment.objects.create(classroom=classroom, student=student)
        credentials.append(Credential(display_name=row.display_name, username=username, password=password))
    audit.record(
        actor=classroom.teacher, action=AuditLog.Action.STUDENTS_CREATED, classroom=classroom, count=len(credentials)
    )
    return credentials


def add_numbered_students(*, classroom: Classroom, count: int) -> list[Credential]:
    if not 1 <= count <= MAX_STUDENTS_PER_BATCH:
        raise RosterError(gettext("Choose between 1 and %(max)s students.") % {"max": MAX_STUDENTS_PER_BATCH})
    start = classroom.enrollments.count() + 1
    # Named in the language of the teacher's page (a display name only the teacher sees).
    rows = [RosterRow(display_name=gettext("Student %(n)s") % {"n": i}) for i in range(start, start + count)]
    return add_students(classroom=classroom, rows=rows)


def reset_student_password(*, classroom: Classroom, student: User) -> Credential:
    """Give a student of this class a new generated password."""
    if not student.is_student or not classroom.enrollments.filter(student=student).exists():
        raise PermissionError(gettext("This student is not in this class."))
    if student.created_by_id != classroom.teacher_id:
        raise PermissionError(gettext("Only the teacher who created this account can reset its password."))
    password = new_password(user=student)
    audit.record(actor=classroom.teacher, action=AuditLog.Action.PASSWORD_RESET, classroom=classroom, subject=student)
    return Credential(display_name=student.display_name, username=student.username, password=password)


def new_password(*, user: User) -> str:
    """Give `user` a new generated password and return it (shown once, stored only hashed)."""
    password = generate_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    return password
