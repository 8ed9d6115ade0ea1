"""Users and roles, classes, enrolment, assignments and the stored tests."""

import secrets
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

# No 0/O or 1/I/L: join codes are read aloud and typed by children.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(8))


class User(AbstractUser):
    class Role(models.TextChoices):
        TEACHER = "teacher", "Teacher"
        STUDENT = "student", "Student"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STUDENT)
    # What the teacher calls the student; never shown in class-wide views.
    display_name = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="created_students"
    )

    @property
    def is_teacher(self) -> bool:
        return self.role == self.Role.TEACHER

    @property
    def is_student(self) -> bool:
        return self.role == self.Role.STUDENT

    def __str__(self):
        return self.display_name or self.username


class Classroom(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="taught_classes")
    join_code = models.CharField(max_length=12, unique=True, default=new_join_code)
    join_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    students = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Enrollment", related_name="enrolled_classes")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Enrollment(models.Model):
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["classroom", "student"], name="unique_enrollment")]

    def __str__(self):
        return f"{self.student} in {self.classroom}"


class Assignment(models.Model):
    """A bias experiment: which models the class compares, and how."""

    class ResultsVisibility(models.TextChoices):
        IMMEDIATE = "immediate", "At once"
        AFTER_DUE = "after_due", "After the due date"
        ON_RELEASE = "on_release", "When I release them"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="assignments")
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True, help_text="Markdown.")
    model_versions = models.ManyToManyField("inference.ModelVersion", related_name="assignments")
    label_set = models.ForeignKey("inference.LabelSet", on_delete=models.PROTECT, related_name="+")
    ask_expected = models.BooleanField(default=True)
    opens_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    results_visibility = models.CharField(
        max_length=16, choices=ResultsVisibility.choices, default=ResultsVisibility.IMMEDIATE
    )
    results_released = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens_at", "-created_at"]

    def __str__(self):
        return self.title


class Submission(models.Model):
    """One photo a student tested, with what they expected and noted."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="submissions")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    photo = models.CharField(max_length=255, blank=True, help_text="Storage name; blank once deleted.")
    photo_deleted_at = models.DateTimeField(null=True, blank=True)
    expected_label = models.CharField(max_length=120, blank=True)
    note = models.TextField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["assignment", "student"])]

    def __str__(self):
        return f"Submission {self.public_id}"


class Prediction(models.Model):
    """One model's answer for one submission."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    FINAL = (Status.DONE, Status.FAILED)

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey("inference.ModelVersion", on_delete=models.PROTECT, related_name="predictions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    label = models.CharField(max_length=120, blank=True)
    probabilities = models.JSONField(default=dict, blank=True)
    face_found = models.BooleanField(null=True)
    latency_ms = models.FloatField(null=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When a worker last claimed it.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["submission", "model_version"], name="one_prediction_per_model"),
            models.CheckConstraint(condition=~Q(status="done") | ~Q(label=""), name="done_prediction_has_label"),
        ]
        indexes = [models.Index(fields=["model_version", "status", "label"])]

    def __str__(self):
        return f"{self.model_version_id}: {self.status} {self.label}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL
