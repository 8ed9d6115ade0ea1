import pytest
from django.contrib.auth import authenticate

from classroom.models import Enrollment, User
from classroom.services import accounts, classes


def login_request():
    """authenticate() as the login view calls it: with a request (django-axes needs one)."""
    from django.test import RequestFactory

    return RequestFactory().post("/login/")


def test_roster_csv_with_header_and_optional_usernames():
    rows = accounts.parse_roster_csv("display_name,username\nAda Lovelace,ada\nAlan Turing\n\n")
    assert rows == [accounts.RosterRow("Ada Lovelace", "ada"), accounts.RosterRow("Alan Turing", "")]


@pytest.mark.parametrize(
    "text,message",
    [
        ("Ada,ada,extra\n", "Line 1: expected"),
        ("Ada,ada\nBob,ada\n", "Line 2: username 'ada' appears twice"),
        ("Ada,A!\n", "Line 1: username 'a!' must be"),
        ("Ada\n,bob\n", "Line 2: the display name is empty"),
        ("display_name\n", "no students"),
    ],
)
def test_broken_roster_names_the_line(text, message):
    with pytest.raises(accounts.RosterError, match=message):
        accounts.parse_roster_csv(text)


def test_add_students_creates_enrolled_students_with_working_passwords(classroom):
    creds = accounts.add_students(
        classroom=classroom, rows=[accounts.RosterRow("Ada", "ada-l"), accounts.RosterRow("Bob")]
    )
    assert [c.username for c in creds][0] == "ada-l"
    for c in creds:
        user = authenticate(login_request(), username=c.username, password=c.password)
        assert user is not None and user.is_student and not user.email
        assert Enrollment.objects.filter(classroom=classroom, student=user).exists()


def test_taken_username_adds_nobody(classroom, student):
    with pytest.raises(accounts.RosterError, match="already taken"):
        accounts.add_students(
            classroom=classroom, rows=[accounts.RosterRow("New"), accounts.RosterRow("X", student.username)]
        )
    assert classroom.enrollments.count() == 1


def test_add_n_students(classroom):
    creds = accounts.add_numbered_students(classroom=classroom, count=5)
    assert len({c.username for c in creds}) == 5
    assert classroom.enrollments.count() == 5


def test_reset_password(classroom, student):
    cred = accounts.reset_student_password(classroom=classroom, student=student)
    assert authenticate(login_request(), username=student.username, password=cred.password)
    assert not authenticate(login_request(), username=student.username, password="pw-student-123")


def test_teacher_cannot_reset_a_student_of_another_class(classroom):
    from tests.factories import ClassroomFactory, StudentFactory, enrol

    other = ClassroomFactory()
    outsider = enrol(other, StudentFactory(created_by=other.teacher))
    with pytest.raises(PermissionError):
        accounts.reset_student_password(classroom=classroom, student=outsider)


def test_join_code_rotate_disable_and_join(classroom):
    from tests.factories import StudentFactory

    pupil = StudentFactory()
    old = classroom.join_code
    new = classes.rotate_join_code(classroom=classroom)
    assert new != old
    with pytest.raises(classes.JoinError):
        classes.join_classroom(student=pupil, code=old)
    classes.set_join_enabled(classroom=classroom, enabled=False)
    with pytest.raises(classes.JoinError):
        classes.join_classroom(student=pupil, code=new)
    classes.set_join_enabled(classroom=classroom, enabled=True)
    assert classes.join_classroom(student=pupil, code=new.lower()) == classroom
    assert classroom.students.filter(pk=pupil.pk).exists()


def test_teacher_signup_hashes_with_argon2_in_production_settings():
    from ethitech import settings as prod

    assert prod.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert User._meta.get_field("role").default == User.Role.STUDENT
