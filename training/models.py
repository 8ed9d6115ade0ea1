"""Training jobs: what was asked, how far it got, and what it produced."""

from django.conf import settings
from django.db import models


class TrainingJob(models.Model):
    class Kind(models.TextChoices):
        MLP = "mlp", "MLP"
        VGG_HEAD = "vgg_head", "VGG-Face head on cached features"
        VGG_FINETUNE = "vgg_finetune", "VGG-Face fine-tune of the last layers"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINAL = (Status.DONE, Status.FAILED, Status.CANCELLED)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    params = models.JSONField(default=dict)
    stage = models.CharField(max_length=120, blank=True)
    percent = models.FloatField(default=0)
    eta_seconds = models.FloatField(null=True, blank=True)
    message = models.TextField(blank=True)
    error = models.TextField(blank=True)
    checkpoint_dir = models.CharField(max_length=255, blank=True, help_text="Relative to MODEL_STORE.")
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
