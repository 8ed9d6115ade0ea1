"""REST API: thin adapters over the same selectors, results and services as the pages.

Scoping is the pages' scoping: a teacher sees their own classes; a student sees
the classes they are enrolled in and only their own submissions. Anything
outside that is a 404, as on the pages. Session or token authentication.
"""

import uuid

from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, Throttled, ValidationError
from rest_framework.response import Response

from inference.intake import IntakeError
from inference.models import ModelVersion

from . import auth_tokens, selectors
from . import results as res
from . import serializers as s
from .lab.api import LabActionsMixin
from .lessons import catalogue
from .lessons import services as lessons
from .lessons.api import LessonActionsMixin
from .lessons.roles import follow
from .lessons.serializers import AssignmentWriteSerializer
from .models import Assignment, Classroom, Prediction, Submission
from .services import classes, submissions
from .throttles import TokenThrottle
from .visibility import results_visible, visible_to


def _uuid_param(request, name: str) -> uuid.UUID | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationError({name: gettext("Not a valid id.")})


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


def _service_errors(call):
    """A service's ValueError is the client's mistake: a 400 with its message."""
    try:
        return call()
    except ValueError as exc:
        raise ValidationError({"non_field_errors": [str(exc)]})


def _write_fields(user, d: dict) -> dict:
    """The write serializer's data as the services' keyword arguments."""
    d = dict(d)
    if "models" in d:
        d["model_versions"] = _service_errors(lambda: selectors.models_by_keys(user, d.pop("models")))
    if "prediction_questions" in d:
        questions = d["prediction_questions"]
        d["prediction_questions"] = _service_errors(lambda: lessons.clean_prediction_questions(questions))
    return d


@extend_schema_view(
    list=extend_schema(summary="Experiments in your classes", parameters=[_filter_param("classroom", "class")]),
    retrieve=extend_schema(summary="One experiment"),
    create=extend_schema(
        summary="Create an experiment (teachers)",
        description="From a lesson (its slug: every field not given comes from the lesson, as on the "
        '"New experiment" page, with the installed models that play its roles) or blank (then title and '
        "models are needed).",
        request=AssignmentWriteSerializer,
        responses={201: s.AssignmentSerializer},
    ),
    partial_update=extend_schema(
        summary="Edit an experiment (teachers)",
        description="Any field but class and lesson. Models can change only while the experiment has no tests.",
        request=AssignmentWriteSerializer,
        responses=s.AssignmentSerializer,
    ),
)
class AssignmentViewSet(
    LabActionsMixin,
    LessonActionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    _ScopedViewSet,
):
    serializer_class = s.AssignmentSerializer

    def get_serializer_class(self):
        return AssignmentWriteSerializer if self.action in ("create", "partial_update") else s.AssignmentSerializer

    def _read(self, assignment, status=200):
        assignment = self.get_queryset().get(pk=assignment.pk)
        return Response(s.AssignmentSerializer(assignment, context=self.get_serializer_context()).data, status=status)

    def create(self, request, *args, **kwargs):
        if not request.user.is_teacher:
            raise PermissionDenied(gettext("Only teachers create experiments."))
        data = AssignmentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = _write_fields(request.user, data.validated_data)
        if "classroom" not in d:
            raise ValidationError({"classroom": [gettext("Say which class (its id).")]})
        try:
            classroom = selectors.classroom_for_teacher(request.user, d.pop("classroom"))
        except Http404:
            raise NotFound(gettext("No such class."))
        slug = d.pop("lesson", "")
        lesson = catalogue.get_lesson(slug) if slug else None
        if slug and lesson is None:
            raise ValidationError({"lesson": [gettext("No such lesson: see /api/lessons/.")]})
        fields = {**lessons.experiment_fields(lesson, request.user), **d}
        if not fields["title"].strip():
            raise ValidationError({"title": [gettext("Give the experiment a title.")]})
        assignment = _service_errors(lambda: lessons.create_experiment(classroom=classroom, lesson=lesson, **fields))
        return self._read(assignment, status=201)

    def partial_update(self, request, public_id=None):
        if not request.user.is_teacher:
            raise NotFound()
        assignment = self.get_object()
        data = AssignmentWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        d = _write_fields(request.user, data.validated_data)
        fixed = sorted(set(d) & {"classroom", "lesson"})
        if fixed:
            raise ValidationError({name: [gettext("Cannot change: create a new experiment.")] for name in fixed})
        if "model_versions" in d:
            d["model_roles"] = follow(d["model_versions"], assignment.model_roles)
        _service_errors(lambda: classes.update_assignment(assignment=assignment, **d))
        return self._read(assignment)

    def _teacher_action(self, request, service):
        if not request.user.is_teacher:
            raise NotFound()
        assignment = self.get_object()
        service(assignment=assignment)
        return self._read(assignment)

    @extend_schema(summary="Close an experiment early (teachers)", request=None, responses=s.AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, public_id=None):
        return self._teacher_action(request, classes.close_assignment)

    @extend_schema(summary="Reopen an experiment (teachers)", request=None, responses=s.AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, public_id=None):
        return self._teacher_action(request, classes.reopen_assignment)

    def get_queryset(self):
        if self._fake():
            return Assignment.objects.none()
        user = self.request.user
        qs = Assignment.objects.select_related("classroom", "label_set").prefetch_related("model_versions__label_set")
        qs = visible_to(user, qs)
        classroom = _uuid_param(self.request, "classroom")
        if classroom:
            qs = qs.filter(classroom__public_id=classroom)
        return qs.order_by("-opens_at", "-created_at", "pk")

    def get_object(self):
        return selectors.assignment_for(self.request.user, self.kwargs["public_id"])

    def _visible(self):
        assignment = self.get_object()
        if not results_visible(self.request.user, assignment):
            raise NotFound(gettext("Results are not shared yet."))
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
        summary="Submit a photo or a gallery image (students)",
        description="Multipart upload of a photo, or the id of an image of the class's test gallery (then the "
        "true group is known). A photo is checked, re-encoded without metadata, and every model of the "
        "experiment is queued on it; it is deleted once they have all answered.",
        request=s.SubmissionCreateSerializer,
        responses={201: s.SubmissionSerializer},
    ),
)
class SubmissionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _ScopedViewSet):
    serializer_class = s.SubmissionSerializer

    def get_serializer_class(self):
        return s.SubmissionCreateSerializer if self.action == "create" else s.SubmissionSerializer

    def get_queryset(self):
        if self._fake():
            return Submission.objects.none()
        user = self.request.user
        qs = Submission.objects.select_related("assignment", "student").prefetch_related(
            "predictions__model_version", "predictions__submission"
        )
        qs = visible_to(user, qs)
        assignment = _uuid_param(self.request, "assignment")
        if assignment:
            qs = qs.filter(assignment__public_id=assignment)
        return qs.order_by("-created_at", "pk")

    def get_object(self):
        submission = selectors.submission_for(self.request.user, self.kwargs["public_id"])
        return self.get_queryset().get(pk=submission.pk)

    def create(self, request, *args, **kwargs):
        if not request.user.is_student:
            raise PermissionDenied(gettext("Only students submit photos."))
        data = s.SubmissionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        try:
            assignment = selectors.assignment_for(request.user, d["assignment"])
            image = selectors.gallery_image_for(request.user, d["gallery_image"]) if "gallery_image" in d else None
        except Http404 as exc:
            raise NotFound(str(exc) or "Not found.")
        try:
            submission = submissions.submit_photo(
                assignment=assignment,
                student=request.user,
                upload=d.get("photo"),
                gallery_image=image,
                expected_label=d["expected_label"],
                note=d["note"],
            )
        except IntakeError as exc:
            raise ValidationError({"photo": [str(exc)]})
        except submissions.TooManyTests as exc:
            raise Throttled(detail=str(exc))  # 429: the same per-student limit as the pages
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
        qs = visible_to(user, qs)
        for name, field in (
            ("assignment", "submission__assignment__public_id"),
            ("submission", "submission__public_id"),
        ):
            value = _uuid_param(self.request, name)
            if value:
                qs = qs.filter(**{field: value})
        return qs.order_by("-created_at", "pk")


@extend_schema_view(
    list=extend_schema(
        summary="Models you may see",
        description="Built-in models; a teacher's own; your class's lab models; any model your experiments use. "
        "Another teacher's or another class's model is not listed (and its card is a 404).",
    ),
    retrieve=extend_schema(summary="One model"),
)
class ModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ModelSummarySerializer
    lookup_field = "key"
    lookup_value_converter = "slug"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ModelVersion.objects.none()
        return selectors.visible_models(self.request.user).select_related("label_set").order_by("family", "key")


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
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token = Token.objects.filter(user=user).first()
        if token is not None and auth_tokens.expired(token):
            token.delete()  # an expired token is replaced, never handed out again
            token = None
        token = token or Token.objects.create(user=user)
        return Response({"token": token.key})
