"""REST API for audits: start one (multipart photos or zips, or a gallery draw as JSON), list
the ones you may see, read one's status and estimates; cancel or delete it."""

from django.db.models import F, Q
from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from .. import selectors
from ..models import CollectionAudit
from ..visibility import member_q
from . import selectors as audit_selectors
from . import services
from .serializers import AuditCreateSerializer, AuditSerializer


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
        qs = qs.filter(member_q(user, "assignment__classroom__"))
        if user.is_teacher:
            return qs
        mine_or_teachers = Q(created_by=user) | Q(created_by=F("assignment__classroom__teacher"))
        return qs.filter(mine_or_teachers).distinct()

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
            message = gettext("Not a model of this experiment: %(key)s") % {"key": unknown[0]}
            raise ValidationError({"models": [message]})
        try:
            audit = services.create_audit(
                assignment=assignment,
                user=request.user,
                title=d["title"],
                models=[by_key[k] for k in d.get("models", [])] or None,
                uploads=request.FILES.getlist("files") or None,
                gallery_counts=d.get("gallery_counts") or None,
            )
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
