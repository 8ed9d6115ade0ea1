"""REST API representations for audits. Field help texts are the API docs: for developers, in English."""

from rest_framework import serializers

from ..models import CollectionAudit
from . import selectors as audit_selectors


class AuditCreateSerializer(serializers.Serializer):
    assignment = serializers.UUIDField(help_text="The experiment (its id); its models do the audit.")
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    models = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Model keys of the experiment; default: all of them."
    )
    files = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="Photos, or zips of photos (multipart). Or:"
    )
    gallery_counts = serializers.DictField(
        child=serializers.IntegerField(min_value=0),
        required=False,
        help_text='Teachers: how many class-gallery images of each group to draw, e.g. {"Group A": 30}.',
    )


class MethodSerializer(serializers.Serializer):
    share = serializers.ListField(child=serializers.FloatField(), help_text="Per group, label-set order.")
    low = serializers.ListField(child=serializers.FloatField(), help_text="95% bootstrap interval, low end.")
    high = serializers.ListField(child=serializers.FloatField())


class MethodsSerializer(serializers.Serializer):
    raw = MethodSerializer(help_text="Counting each image's top guess.")
    adjusted = MethodSerializer(allow_null=True, help_text="Adjusted classify-and-count (held-out confusion matrix).")
    em = MethodSerializer(allow_null=True, help_text="EM prior adjustment (Saerens et al.), calibrated on held-out.")


class RunSerializer(serializers.Serializer):
    model = serializers.CharField(source="model_version.key")
    model_name = serializers.CharField(source="model_version.name")
    status = serializers.CharField()
    answered = serializers.IntegerField(source="done")
    faces_found = serializers.IntegerField()
    error = serializers.CharField()
    methods = serializers.SerializerMethodField()
    why_not = serializers.SerializerMethodField(help_text="Why a correction is not possible, if it is not.")
    held_out_images = serializers.SerializerMethodField()

    def get_methods(self, run) -> MethodsSerializer(allow_null=True):
        return (run.estimates or {}).get("methods")

    def get_why_not(self, run) -> str:
        return ((run.estimates or {}).get("why_not") or {}).get("adjusted", "")

    def get_held_out_images(self, run) -> int:
        return (run.estimates or {}).get("held_out_images", 0)


class AuditSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    assignment = serializers.UUIDField(source="assignment.public_id")
    groups = serializers.ListField(child=serializers.CharField(), source="assignment.label_set.labels")
    true_shares = serializers.SerializerMethodField(help_text="Gallery collections: each group's real share.")
    runs = RunSerializer(many=True)
    skipped = serializers.SerializerMethodField(help_text="Files not used and why (its creator and the teacher).")

    class Meta:
        model = CollectionAudit
        fields = [
            "id",
            "assignment",
            "title",
            "source",
            "status",
            "image_count",
            "prepared",
            "skipped_count",
            "skipped",
            "error",
            "groups",
            "true_shares",
            "runs",
            "created_at",
            "finished_at",
        ]

    def get_true_shares(self, audit) -> serializers.ListField(child=serializers.FloatField(), allow_null=True):
        return audit_selectors.true_mix(audit)

    def get_skipped(self, audit) -> serializers.ListField(child=serializers.DictField(), allow_null=True):
        user = self.context["request"].user
        return audit.skipped if user.is_teacher or audit.created_by_id == user.pk else None
