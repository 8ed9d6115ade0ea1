import factory
from django.utils import timezone

from classroom.models import Classroom, Enrollment, User


class TeacherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"teacher{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@school.example")
    role = User.Role.TEACHER
    password = factory.django.Password("pw-teacher-123")


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"student{n}")
    display_name = factory.Sequence(lambda n: f"Student Name {n}")
    role = User.Role.STUDENT
    password = factory.django.Password("pw-student-123")


class ClassroomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Classroom

    name = factory.Sequence(lambda n: f"Class {n}")
    teacher = factory.SubFactory(TeacherFactory)
    # Most tests are about a class that may take photos; consent itself is tested on its own.
    consent_confirmed_at = factory.LazyFunction(timezone.now)


def enrol(classroom, student):
    Enrollment.objects.create(classroom=classroom, student=student)
    return student
