"""Users and roles, classes, enrolment, assignments and the stored tests."""

import secrets
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# No 0/O or 1/I/L: join codes are read aloud and typed by children.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MAX_KEEP_PHOTOS_DAYS = 30


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(8))


class User(AbstractUser):
    class Role(models.TextChoices):
        TEACHER = "teacher", _("Teacher")
        STUDENT = "student", _("Student")

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STUDENT)
    # What URLs use for a user (e.g. a teacher resetting a student's password): never the guessable pk.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self._password_changed = True

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Invariant: an API token never outlives the password it was obtained with (change, reset).
        if getattr(self, "_password_changed", False) and self.pk:
            from rest_framework.authtoken.models import Token

            Token.objects.filter(user=self).delete()
            self._password_changed = False


class Classroom(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="taught_classes")
    join_code = models.CharField(max_length=12, unique=True, default=new_join_code)
    join_enabled = models.BooleanField(default=True)
    # Students can submit photos only once the teacher has confirmed the school's consent policy.
    consent_confirmed_at = models.DateTimeField(null=True, blank=True)
    consent_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consent_policy = models.CharField(
        max_length=300, blank=True, help_text=_("The school's policy the teacher confirmed (name or link).")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    students = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Enrollment", related_name="enrolled_classes")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def consent_confirmed(self) -> bool:
        return self.consent_confirmed_at is not None


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
        IMMEDIATE = "immediate", _("At once")
        AFTER_DUE = "after_due", _("After the due date")
        ON_RELEASE = "on_release", _("When I release them")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="assignments")
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True, help_text=_("Markdown."))
    model_versions = models.ManyToManyField("inference.ModelVersion", related_name="assignments")
    label_set = models.ForeignKey("inference.LabelSet", on_delete=models.PROTECT, related_name="+")
    ask_expected = models.BooleanField(default=True)
    # Photo source. Once the class has a test gallery it is the default and uploads
    # are opt-in; without a gallery for the experiment's groups, uploads are the only
    # source and stay open whatever this says (see selectors.uploads_allowed).
    allow_uploads = models.BooleanField(
        default=True, help_text=_("Students may upload their own photos (besides the class's test gallery).")
    )
    opens_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    results_visibility = models.CharField(
        max_length=16, choices=ResultsVisibility.choices, default=ResultsVisibility.IMMEDIATE
    )
    results_released = models.BooleanField(default=False)
    # Closed early by the teacher (reopening clears it): no new tests, whatever the dates say.
    closed_at = models.DateTimeField(null=True, blank=True)
    # The lesson template it was created from (classroom.lessons), if any; its texts were copied
    # in and are the teacher's to edit, so a later template version never changes them.
    lesson_key = models.SlugField(max_length=80, blank=True)
    lesson_version = models.PositiveSmallIntegerField(null=True, blank=True)
    # Predict -> test -> observe -> explain. Each question: {"kind", "text"[, "model_role"]}; the
    # structured kinds (fairer_model, worst_group, higher_overall) are checked against the results.
    ask_predictions = models.BooleanField(default=True, help_text=_("Students answer the predictions before testing."))
    prediction_questions = models.JSONField(default=list, blank=True)
    reflection_questions = models.JSONField(default=list, blank=True)
    # Lesson roles of the chosen models ({"balanced": "<model key>", ...}): what questions refer to.
    model_roles = models.JSONField(default=dict, blank=True)
    tests_goal = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text=_("Tests each student is asked to do."),
    )
    # "Who decides the label?": students record the group they perceive, with "Not sure" and
    # "More than one group" as answers, and the lesson page measures how often they agree.
    perception_activity = models.BooleanField(default=False)
    # The student lab: each student (or team) trains small models on a mix they choose, from this
    # dataset, within these bounds; their models join their own gallery tests and the class chart.
    lab_enabled = models.BooleanField(default=False)
    lab_dataset = models.ForeignKey(
        "training.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lab_mixes = models.JSONField(default=list, blank=True, help_text=_('Allowed: "balanced", "k_times", "counts".'))
    lab_max_k = models.PositiveSmallIntegerField(default=10, validators=[MinValueValidator(1), MaxValueValidator(50)])
    lab_images_per_model = models.PositiveIntegerField(
        default=600, validators=[MinValueValidator(50), MaxValueValidator(5000)]
    )
    lab_models_per_student = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    # Saliency maps ("what the model looked at") for uploads too; gallery tests always get them.
    explain_answers = models.BooleanField(default=True)
    # Students may audit collections of images (classroom.audits); teachers always can.
    audits_enabled = models.BooleanField(default=False)
    # Off (null) by default: photos are deleted as soon as every model has answered.
    keep_photos_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_KEEP_PHOTOS_DAYS)],
        help_text=_("Keep photos this many days after the models answer, then delete them."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(keep_photos_days__isnull=True) | Q(keep_photos_days__range=(1, MAX_KEEP_PHOTOS_DAYS)),
                name="keep_photos_at_most_30_days",
            )
        ]

    def __str__(self):
        return self.title


class Submission(models.Model):
    """One photo a student tested, with what they expected and noted."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="submissions")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    photo = models.CharField(max_length=255, blank=True, help_text=_("Storage name; blank once deleted."))
    photo_deleted_at = models.DateTimeField(null=True, blank=True)
    # Set when the assignment keeps photos: the periodic purge deletes it then.
    photo_delete_after = models.DateTimeField(null=True, blank=True)
    # Where the first worker found the face in the photo ([x, y, w, h], or [] for none): the other
    # model family's worker crops there instead of searching again. Cleared with the photo.
    face_box = models.JSONField(null=True, blank=True)
    expected_label = models.CharField(max_length=120, blank=True)
    # A test from the class gallery: which image, and its known group (kept if the image is removed),
    # so accuracy needs no self-report. Blank for uploads.
    gallery_image = models.ForeignKey(
        "GalleryImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    true_label = models.CharField(max_length=120, blank=True)
    note = models.TextField(max_length=1000, blank=True)
    # A teacher trying the experiment as a student would: shown as a preview, never in class results.
    preview = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["assignment", "student"]),
            # Class results (classroom.results): a scope's submissions and time span from the
            # index alone, with what the results read from each (PostgreSQL: index-only scans).
            models.Index(
                fields=["assignment", "created_at"],
                include=["id", "expected_label", "true_label", "student", "gallery_image", "preview"],
                name="submission_results_idx",
            ),
        ]

    def __str__(self):
        return f"Submission {self.public_id}"


class PredictionQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for prediction in objs:
            prediction.copy_assignment()
        return super().bulk_create(objs, *args, **kwargs)


class Prediction(models.Model):
    """One model's answer for one submission."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    FINAL = (Status.DONE, Status.FAILED)

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="predictions")
    # Always the submission's assignment (copied on creation; a submission never moves): class
    # results read a class's answers as one range of prediction_results_idx, not a lookup per test.
    # No index of its own: prediction_results_idx starts with it.
    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="+", db_index=False, editable=False
    )
    model_version = models.ForeignKey("inference.ModelVersion", on_delete=models.PROTECT, related_name="predictions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    label = models.CharField(max_length=120, blank=True)
    probabilities = models.JSONField(default=dict, blank=True)
    face_found = models.BooleanField(null=True)
    latency_ms = models.FloatField(null=True)
    # What the model looked at: {"method", "grid" (rows of floats), "params"} from inference.saliency.
    # A small grid, never a copy of the photo; made while the photo still existed.
    saliency = models.JSONField(null=True, blank=True)
    # The number format the model computed this answer in (VGG-Face: float32, bfloat16 or int8, see
    # inference.precision); blank for models without a choice (the MLPs) and answers from before.
    precision = models.CharField(max_length=16, blank=True, default="")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text=_("When a worker last claimed it."))
    claim_token = models.CharField(
        max_length=64, blank=True, help_text=_("The task that last claimed it: its redelivery may re-claim it at once.")
    )
    # The worker (Celery node name) holding the claim: when it stops sending heartbeats, its
    # claims go back to the queue (classroom.services.worker_claims), within a minute.
    claimed_by = models.CharField(max_length=200, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True, help_text=_("When its task was last sent to a queue."))
    # Its task could not be sent (the broker was unreachable) or the broker lost it: a worker sends
    # it again once the broker answers (classroom.services.redelivery).
    unsent = models.BooleanField(default=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = PredictionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["submission", "model_version"], name="one_prediction_per_model"),
            models.CheckConstraint(condition=~Q(status="done") | ~Q(label=""), name="done_prediction_has_label"),
        ]
        indexes = [
            models.Index(fields=["model_version", "status", "label"]),
            # The sweeper's query: only the few predictions not yet final.
            models.Index(fields=["created_at"], condition=Q(status__in=["pending", "running"]), name="prediction_open"),
            # Class results: a scope's answers (and the live view's version) from the index alone,
            # one range per assignment. Lookups by submission use one_prediction_per_model.
            models.Index(
                fields=["assignment", "submission", "model_version"],
                include=["status", "face_found", "label", "finished_at"],
                name="prediction_results_idx",
            ),
        ]

    def __str__(self):
        return f"{self.model_version_id}: {self.status} {self.label}"

    def save(self, *args, **kwargs):
        if self._state.adding:
            self.copy_assignment()
        super().save(*args, **kwargs)

    def copy_assignment(self) -> None:
        """Keep the copy of the submission's assignment true, whoever creates the prediction."""
        if self.submission_id is not None:
            self.assignment_id = self.submission.assignment_id

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL


class AuditLog(models.Model):
    """A teacher's action on student data: who did what, when, in which class.

    Students are named by their random public id only, so the log itself
    identifies nobody once an account is deleted.
    """

    class Action(models.TextChoices):
        STUDENTS_CREATED = "students_created", _("Created student accounts")
        PASSWORD_RESET = "password_reset", _("Reset a student's password")
        STUDENT_EXPORTED = "student_exported", _("Exported a student's data")
        STUDENT_DELETED = "student_deleted", _("Deleted a student's data")
        CLASS_DELETED = "class_deleted", _("Deleted a class")
        CONSENT_CONFIRMED = "consent_confirmed", _("Confirmed the school's consent policy")
        PHOTOS_KEPT = "photos_kept", _("Chose to keep photos")
        EXPERIMENT_DELETED = "experiment_deleted", _("Deleted an experiment and its tests")

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_username = models.CharField(max_length=150)
    action = models.CharField(max_length=32, choices=Action.choices)
    classroom = models.ForeignKey(Classroom, null=True, on_delete=models.SET_NULL, related_name="audit_log")
    classroom_name = models.CharField(max_length=120, blank=True)
    subject = models.UUIDField(null=True, blank=True, help_text=_("Public id of the student concerned."))
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["classroom", "-created_at"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_username}: {self.get_action_display()}"


class GalleryImage(models.Model):
    """A labelled, held-out image a teacher published to a class's test gallery.

    Students test it instead of uploading a photo. The file is a private copy
    (re-encoded without metadata, under a random name in storage) shown only to
    members of the class through an authenticated view; it never has a public URL.
    The group and source are copied here, so the gallery (and the tests made with
    it) keep their meaning if the dataset is re-imported.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="gallery_images")
    dataset_image = models.ForeignKey(
        "training.DatasetImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    label_set = models.ForeignKey("inference.LabelSet", on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=120, help_text=_("The image's group in its dataset (the true label)."))
    # The dataset's gender and age band for the image, where it has them (the synthetic set's are
    # made up: style and band): the results break gallery tests down by them (Gender Shades).
    gender = models.CharField(max_length=16, blank=True)
    age_group = models.CharField(max_length=16, blank=True)
    source = models.CharField(max_length=160, help_text=_("The dataset it was drawn from."))
    synthetic = models.BooleanField(default=False)
    photo = models.CharField(max_length=255, help_text=_("Storage name of the private copy."))
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Random (UUID) order: a gallery's layout says nothing about the groups.
        ordering = ["public_id"]
        constraints = [
            models.UniqueConstraint(fields=["classroom", "dataset_image"], name="gallery_image_once_per_class")
        ]
        indexes = [models.Index(fields=["classroom", "label_set", "label"])]

    def __str__(self):
        return f"Gallery image {self.public_id} ({self.label})"


class LessonResponse(models.Model):
    """A student's answer to one of an experiment's prediction or reflection questions.

    `question` is the position in the experiment's list; the question's text is copied
    too, so an answer keeps its meaning if the teacher edits the question later."""

    class Kind(models.TextChoices):
        PREDICTION = "prediction", _("Prediction")
        REFLECTION = "reflection", _("Reflection")

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="responses")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_responses")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    question = models.PositiveSmallIntegerField()
    question_text = models.CharField(max_length=500)
    answer = models.TextField(max_length=2000)
    # A teacher's answers while previewing the experiment: never in the class's summaries.
    preview = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "question"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "student", "kind", "question"], name="one_answer_per_question"
            )
        ]
        indexes = [models.Index(fields=["assignment", "kind", "question"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.question} by {self.student_id}"


class LabTeam(models.Model):
    """Students who share their lab models in one experiment."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="lab_teams")
    name = models.CharField(max_length=60)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="lab_teams")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assignment", "name"], name="unique_team_name")]

    def __str__(self):
        return self.name


class LabModel(models.Model):
    """A model a student trained in an experiment's lab: the training job, and so its model."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="lab_models")
    job = models.OneToOneField("training.TrainingJob", on_delete=models.CASCADE, related_name="lab_model")
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lab_models")
    team = models.ForeignKey(LabTeam, null=True, blank=True, on_delete=models.SET_NULL, related_name="models")
    name = models.CharField(max_length=60)
    mix = models.JSONField(help_text=_("The mix as asked (training.composition's form)."))
    counts = models.JSONField(help_text=_("Training images per group."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.name

    @property
    def model(self):
        return self.job.result


class CollectionAudit(models.Model):
    """An estimate of who is in a collection of images, by one or more models (classroom.audits).

    Uploaded images are kept only until every model has answered; per image, only each model's
    probabilities stay (on its run), and they go with the audit. A gallery collection names
    its images, so its true make-up can be shown beside the estimates."""

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Uploaded images")
        GALLERY = "gallery", _("Images from the class gallery")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="collection_audits")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=120)
    source = models.CharField(max_length=10, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    image_count = models.PositiveIntegerField(default=0)
    # Uploads as they came ({"name", "label", "zip"}), until a worker has cleaned them (`prepared` so far).
    incoming = models.JSONField(default=list, blank=True)
    prepared = models.PositiveIntegerField(default=0)
    # Storage names of the uploaded copies, in order; emptied once they are deleted.
    files = models.JSONField(default=list, blank=True)
    # Gallery collections: the images' ids, in the same order as the answers.
    gallery_ids = models.JSONField(default=list, blank=True)
    # Files not used, and why: [{"name", "reason"}] (the first few) and the total.
    skipped = models.JSONField(default=list, blank=True)
    skipped_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # A task it needs never reached the broker (Redis away, or restarted empty since): a worker
    # sends what it still needs once the broker answers (classroom.services.redelivery).
    unsent = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

    @property
    def is_final(self) -> bool:
        return self.status != self.Status.RUNNING


class CollectionAuditRun(models.Model):
    """One model's pass over an audit's collection, and its estimates."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINAL = (Status.DONE, Status.FAILED, Status.CANCELLED)

    audit = models.ForeignKey(CollectionAudit, on_delete=models.CASCADE, related_name="runs")
    model_version = models.ForeignKey("inference.ModelVersion", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # One row of probabilities (label-set order) per image answered so far; a redelivered task
    # carries on after the last saved batch.
    probabilities = models.JSONField(default=list, blank=True)
    faces_found = models.PositiveIntegerField(default=0)
    # inference.quantify.estimate's result, and what it was corrected with.
    estimates = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["model_version__family", "model_version__key"]
        constraints = [models.UniqueConstraint(fields=["audit", "model_version"], name="one_run_per_model")]

    def __str__(self):
        return f"{self.audit_id}/{self.model_version_id}: {self.status}"

    @property
    def done(self) -> int:
        return len(self.probabilities)
