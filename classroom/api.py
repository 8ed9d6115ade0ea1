"""REST API: thin adapters over the same selectors, results and services as the pages.

Scoping is the pages' scoping: a teacher sees their own classes; a student sees
the classes they are enrolled in and only their own submissions. Anything
outside that is a 404, as on the pages. Session or token authentication.
"""

import uuid

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from inference.intake import IntakeError

from . import results as res
from . import selectors
from . import serializers as s
from .models import Assignment, Classroom, Prediction, Submission
from .services import submissions


class SubmissionUploadThrottle(UserRateThrottle):
    scope = "submissions"


class TokenThrottle(AnonRateThrottle):
    """Password guesses through the token endpoint, per client address."""

    scope = "token"


def _uuid_param(request, name: str) -> uuid.UUID | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationError({name: "Not a valid id."})


def _filter_param(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.UUID, OpenApiParameter.QUERY, description=f"Only this {what}.")


class _ScopedViewSet(viewsets.GenericViewSet):
    lookup_field = "public_id"
    lookup_value_converter = "uuid"

    def _fake(self) -> bool:
        return getattr(self, "swagger_fake_view", False)  # schema generation: no user


@extend_schema_view(
    list=extend_schema(summary="Your classes", description="Teachers: the classes they teach. Students: theirs."),
    retrieve=extend_schema(summary="One class"),
)
class ClassroomViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ScopedViewSet):
    serializer_class = s.ClassroomSerializer

    def get_queryset(self):
        if self._fake():
            return Classroom.objects.none()
        return selectors.classes_for(self.request.user).order_by("name", "pk")

    def get_object(self):
        return selectors.classroom_for_member(self.request.user, self.kwargs["public_id"])

    @extend_schema(
        summary="Class results across experiments",
        description="Per model, every experiment of the class (students: those whose results are shared). "
        "No names. Same numbers as the class results page.",
        responses=s.ResultsSerializer,
    )
    @action(detail=True, methods=["get"])
    def results(self, request, public_id=None):
        classroom = self.get_object()
        return Response(res.as_dict(res.compute(res.classroom_scope(classroom, request.user))))


@extend_schema_view(
    list=extend_schema(summary="Experiments in your classes", parameters=[_filter_param("classroom", "class")]),
    retrieve=extend_schema(summary="One experiment"),
)
class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ScopedViewSet):
    serializer_class = s.AssignmentSerializer

    def get_queryset(self):
        if self._fake():
            return Assignment.objects.none()
        user = self.request.user
        qs = Assignment.objects.select_related("classroom", "label_set").prefetch_related("model_versions__label_set")
        qs = qs.filter(classroom__teacher=user) if user.is_teacher else qs.filter(classroom__enrollments__student=user)
        classroom = _uuid_param(self.request, "classroom")
        if classroom:
            qs = qs.filter(classroom__public_id=classroom)
        return qs.order_by("-opens_at", "-created_at", "pk")

    def get_object(self):
        return selectors.assignment_for(self.request.user, self.kwargs["public_id"])

    def _visible(self):
        assignment = self.get_object()
        if not selectors.results_visible(self.request.user, assignment):
            raise NotFound("Results are not shared yet.")
        return assignment

    @extend_schema(
        summary="Class results of an experiment",
        description="Per model: accuracy per expected group with 95% Wilson intervals, confusion matrix, "
        "distributions, disparity, face-not-found rates, trend; disagreement between models. No names; "
        "a student also gets their own counts. 404 until the results are shared with students.",
        responses=s.ResultsSerializer,
    )
    @action(detail=True, methods=["get"])
    def results(self, request, public_id=None):
        assignment = self._visible()
        return Response(res.as_dict(res.compute(res.assignment_scope(assignment, request.user))))

    @extend_schema(
        summary="Anonymised export (teachers)",
        description="Every prediction of the experiment, oldest first. Students appear as random pseudonyms "
        "that change with every export; notes are left out. The CSV download has the same rows.",
        responses=s.ExportRowSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def export(self, request, public_id=None):
        if not request.user.is_teacher:
            raise NotFound()  # like the pages: a wrong role is a 404
        assignment = self.get_object()
        return Response(list(res.export_rows(assignment)))


@extend_schema_view(
    list=extend_schema(
        summary="Submissions",
        description="Teachers: every submission in their classes. Students: only their own.",
        parameters=[_filter_param("assignment", "experiment")],
    ),
    retrieve=extend_schema(summary="One submission, with each model's guess"),
    create=extend_schema(
        summary="Submit a photo (students)",
        description="Multipart upload. The photo is checked, re-encoded without metadata, and every model of "
        "the experiment is queued on it; it is deleted once they have all answered.",
        request=s.SubmissionCreateSerializer,
        responses={201: s.SubmissionSerializer},
    ),
)
class SubmissionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _ScopedViewSet):
    serializer_class = s.SubmissionSerializer

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action == "create":
            throttles.append(SubmissionUploadThrottle())
        return throttles

    def get_serializer_class(self):
        return s.SubmissionCreateSerializer if self.action == "create" else s.SubmissionSerializer

    def get_queryset(self):
        if self._fake():
            return Submission.objects.none()
        user = self.request.user
        qs = Submission.objects.select_related("assignment", "student").prefetch_related(
            "predictions__model_version", "predictions__submission"
        )
        qs = qs.filter(assignment__classroom__teacher=user) if user.is_teacher else qs.filter(student=user)
        assignment = _uuid_param(self.request, "assignment")
        if assignment:
            qs = qs.filter(assignment__public_id=assignment)
        return qs.order_by("-created_at", "pk")

    def get_object(self):
        submission = selectors.submission_for(self.request.user, self.kwargs["public_id"])
        return self.get_queryset().get(pk=submission.pk)

    def create(self, request, *args, **kwargs):
        if not request.user.is_student:
            raise PermissionDenied("Only students submit photos.")
        data = s.SubmissionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        try:
            assignment = selectors.assignment_for(request.user, d["assignment"])
        except Http404:
            raise NotFound("No such experiment.")
        try:
            submission = submissions.submit_photo(
                assignment=assignment,
                student=request.user,
                upload=d["photo"],
                expected_label=d["expected_label"],
                note=d["note"],
            )
        except IntakeError as exc:
            raise ValidationError({"photo": [str(exc)]})
        except submissions.SubmissionError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]})
        except PermissionError as exc:
            raise PermissionDenied(str(exc))
        submission = self.get_queryset().get(pk=submission.pk)
        return Response(s.SubmissionSerializer(submission, context=self.get_serializer_context()).data, status=201)


@extend_schema_view(
    list=extend_schema(
        summary="Predictions: what each model guessed",
        description="Teachers: every prediction in their classes. Students: those on their own submissions.",
        parameters=[_filter_param("assignment", "experiment"), _filter_param("submission", "submission")],
    )
)
class PredictionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.PredictionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Prediction.objects.none()
        user = self.request.user
        qs = Prediction.objects.select_related("model_version", "submission")
        if user.is_teacher:
            qs = qs.filter(submission__assignment__classroom__teacher=user)
        else:
            qs = qs.filter(submission__student=user)
        for name, field in (
            ("assignment", "submission__assignment__public_id"),
            ("submission", "submission__public_id"),
        ):
            value = _uuid_param(self.request, name)
            if value:
                qs = qs.filter(**{field: value})
        return qs.order_by("-created_at", "pk")


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (send it as `Authorization: Token <key>`)."""

    throttle_classes = [TokenThrottle]

    @extend_schema(
        summary="Get an API token",
        request=inline_serializer(
            "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
        ),
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
