"""Training jobs: what was asked, how far it got, and what it produced."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TrainingJob(models.Model):
    class Kind(models.TextChoices):
        MLP = "mlp", _("MLP")
        VGG_HEAD = "vgg_head", _("VGG-Face head on cached features")
        VGG_FINETUNE = "vgg_finetune", _("VGG-Face fine-tune of the last layers")
        LAB_MLP = "lab_mlp", _("Small MLP trained in a student lab")
        EVALUATE = "evaluate", _("Evaluation of a model on a dataset's held-out images")
        IMPORT = "import", _("Import of a dataset or a weights file")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINAL = (Status.DONE, Status.FAILED, Status.CANCELLED)

    # What the teacher's job pages use in URLs: never the guessable pk.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    params = models.JSONField(default=dict)
    stage = models.CharField(max_length=120, blank=True)
    percent = models.FloatField(default=0)
    eta_seconds = models.FloatField(null=True, blank=True)
    message = models.TextField(blank=True)
    error = models.TextField(blank=True)
    checkpoint_dir = models.CharField(max_length=255, blank=True, help_text=_("Relative to MODEL_STORE."))
    # Who runs it: the task's id (the same after a redelivery) and the worker, whose heartbeat
    # (classroom.services.worker_claims) says whether a running job is still being run.
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    # Its task never reached the broker (Redis away when it was started, or restarted empty since):
    # a worker sends it once the broker answers (classroom.services.redelivery).
    unsent = models.BooleanField(default=False)
    result = models.ForeignKey(
        "inference.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="training_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL


class Dataset(models.Model):
    """An imported image collection. Images stay where the user keeps them
    (`root`); rows hold relative paths, labels and splits."""

    class Kind(models.TextChoices):
        UTKFACE = "utkface", "UTKFace"
        FAIRFACE = "fairface", "FairFace"
        SYNTHETIC = "synthetic", _("Synthetic demo")

    key = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=160)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    label_set = models.ForeignKey("inference.LabelSet", on_delete=models.PROTECT, related_name="datasets")
    root = models.CharField(max_length=500)
    synthetic = models.BooleanField(default=False)
    report = models.JSONField(default=dict, help_text=_("Counts per group and split, skipped files."))
    imported_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.name


class DatasetImage(models.Model):
    class Split(models.TextChoices):
        TRAIN = "train", _("Training")
        TEST = "test", _("Held out")

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="images")
    path = models.CharField(max_length=500, help_text=_("Relative to the dataset root."))
    label = models.CharField(max_length=120)
    split = models.CharField(max_length=8, choices=Split.choices)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    age_group = models.CharField(max_length=16, blank=True)
    gender = models.CharField(max_length=16, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "path"], name="unique_dataset_image")]
        indexes = [models.Index(fields=["dataset", "split", "label"])]

    def __str__(self):
        return f"{self.dataset.key}:{self.path}"
