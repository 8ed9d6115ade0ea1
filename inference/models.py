"""Model registry: label sets and model versions.

`inference` is the bottom layer, so label sets live here and datasets (in
`training`) point at them; a model version only needs to know its labels.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LabelSet(models.Model):
    """An ordered list of groups; index i is the model's output class i."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    labels = models.JSONField(help_text=_("Ordered group names; position = class index."))
    synthetic = models.BooleanField(default=False)
    description = models.TextField(blank=True)

    def __str__(self):
        return self.name


class BaseWeights(models.Model):
    """A VGG-Face base (convolutions, fc6, fc7) that heads are trained on.

    Imported from a user's pretrained file, or generated at random for the
    demo (`pretrained=False`, said wherever it is shown).
    """

    key = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=160)
    artifact_path = models.CharField(max_length=255, help_text=_("Relative to MODEL_STORE."))
    sha256 = models.CharField(max_length=64)
    width = models.FloatField(default=1.0, help_text=_("Channel scale; 1.0 is the published network."))
    pretrained = models.BooleanField(default=True)
    source = models.CharField(max_length=255, blank=True, help_text=_("Original file name or generator."))
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class ModelVersion(models.Model):
    class Family(models.TextChoices):
        MLP = "mlp", _("scikit-learn MLP")
        VGG = "vgg", _("VGG-Face transfer learning")

    class Scope(models.TextChoices):
        # Who may see and use a model; classroom.selectors.visible_models applies it everywhere.
        BUILTIN = "builtin", _("Built-in (installed by an operator, every teacher)")
        TEACHER = "teacher", _("A teacher's own (trained by them)")
        CLASS = "class", _("A class's (trained in a student lab; only that class)")

    key = models.SlugField(max_length=80, unique=True)
    # Versions never change: training or importing under a key again registers `<key>-v2`, ...
    # in the same lineage; the older versions stay as they were (their tests keep them), inactive.
    lineage = models.SlugField(max_length=80, db_index=True, help_text=_("The key its first version was given."))
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=120)
    family = models.CharField(max_length=16, choices=Family.choices)
    label_set = models.ForeignKey(LabelSet, on_delete=models.PROTECT, related_name="model_versions")
    artifact_path = models.CharField(max_length=255, help_text=_("Relative to MODEL_STORE."))
    sha256 = models.CharField(max_length=64)
    input_spec = models.JSONField(default=dict, help_text=_("Preprocessing: size, colour mode."))
    composition = models.JSONField(default=dict, help_text=_("Training images per group."))
    metrics = models.JSONField(default=dict, help_text=_("Per-group metrics on held-out data."))
    training_params = models.JSONField(default=dict)
    base = models.ForeignKey(
        BaseWeights,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="model_versions",
        help_text=_("VGG-Face base whose lower layers complete this model's artifact."),
    )
    data_source = models.CharField(max_length=200, blank=True)
    synthetic = models.BooleanField(default=False, help_text=_("Trained on synthetic data."))
    pretrained = models.BooleanField(default=True, help_text=_("False if the base is random."))
    active = models.BooleanField(default=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.BUILTIN, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family", "key"]
        constraints = [models.UniqueConstraint(fields=["lineage", "version"], name="one_model_per_version")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.lineage = self.lineage or self.key  # a first version starts its own lineage
        super().save(*args, **kwargs)

    @property
    def queue(self) -> str:
        # One Celery queue per family: MLP answers never wait behind VGG work.
        return self.family

    @property
    def labels(self) -> list[str]:
        return list(self.label_set.labels)
