"""REST API for audits: start one (multipart photos or zips, or a gallery draw as JSON), list
the ones you may see, read one's status and estimates; cancel or delete it."""

from django.db.models import F, Q
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from .. import selectors
from ..models import CollectionAudit
from . import selectors as audit_selectors
from . import services


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
            "id", "assignment", "title", "source", "status", "image_count", "prepared", "skipped_count", "skipped",
            "error", "groups", "true_shares", "runs", "created_at", "finished_at",
        ]  # fmt: skip

    def get_true_shares(self, audit) -> serializers.ListField(child=serializers.FloatField(), allow_null=True):
        return audit_selectors.true_mix(audit)

    def get_skipped(self, audit) -> serializers.ListField(child=serializers.DictField(), allow_null=True):
        user = self.context["request"].user
        return audit.skipped if user.is_teacher or audit.created_by_id == user.pk else None


@extend_schema_view(
    list=extend_schema(
        summary="Audits you can see",
        description="Teachers: every audit in their experiments. Students: their own and their teacher's.",
    ),
    retrieve=extend_schema(summary="One audit: status, and each model's estimates once done"),
    destroy=extend_schema(summary="Delete an audit and everything the models answered (its creator or the teacher)"),
    create=extend_schema(
        summary="Start an audit",
        request={"multipart/form-data": AuditCreateSerializer, "application/json": AuditCreateSerializer},
        responses={201: AuditSerializer},
        description="Photos or zips as multipart `files`, or (teachers) `gallery_counts` as JSON.",
    ),
)
class AuditViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AuditSerializer
    lookup_field = "public_id"
    lookup_value_converter = "uuid"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CollectionAudit.objects.none()
        user = self.request.user
        qs = CollectionAudit.objects.select_related("assignment__label_set").prefetch_related("runs__model_version")
        if user.is_teacher:
            return qs.filter(assignment__classroom__teacher=user)
        mine_or_teachers = Q(created_by=user) | Q(created_by=F("assignment__classroom__teacher"))
        return qs.filter(assignment__classroom__enrollments__student=user).filter(mine_or_teachers).distinct()

    def get_object(self):
        audit = audit_selectors.audit_for(self.request.user, self.kwargs["public_id"])
        return CollectionAudit.objects.prefetch_related("runs__model_version").get(pk=audit.pk)

    def create(self, request, *args, **kwargs):
        data = AuditCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        try:
            assignment = selectors.assignment_for(request.user, d["assignment"])
        except Http404 as exc:
            raise NotFound(str(exc))
        by_key = {mv.key: mv for mv in assignment.model_versions.all()}
        unknown = [k for k in d.get("models", []) if k not in by_key]
        if unknown:
            raise ValidationError({"models": [f"Not a model of this experiment: {unknown[0]}"]})
        try:
            audit = services.create_audit(
                assignment=assignment, user=request.user, title=d["title"],
                models=[by_key[k] for k in d.get("models", [])] or None,
                uploads=request.FILES.getlist("files") or None, gallery_counts=d.get("gallery_counts") or None,
            )  # fmt: skip
        except services.AuditError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]})
        except PermissionError as exc:
            raise PermissionDenied(str(exc))
        return Response(AuditSerializer(self.get_queryset().get(pk=audit.pk), context={"request": request}).data, 201)

    @extend_schema(summary="Cancel a running audit (its photos are deleted)", request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request, public_id=None):
        audit = self.get_object()
        try:
            services.cancel_audit(audit=audit, user=request.user)
        except PermissionError as exc:
            raise PermissionDenied(str(exc))
        return Response(AuditSerializer(self.get_object(), context={"request": request}).data)

    def destroy(self, request, *args, **kwargs):
        try:
            services.delete_audit(audit=self.get_object(), user=request.user)
        except PermissionError as exc:
            raise PermissionDenied(str(exc))
        return Response(status=204)
