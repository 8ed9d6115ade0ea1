"""REST API for the lab: students start a model and follow it; the class chart's data.
Mixed into the experiments' viewset (routes under /api/assignments/<id>/lab/)."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from . import selectors as lab_selectors
from . import services
from .serializers import ChartSerializer, LabModelStateSerializer, StartLabModelSerializer
from .views import lab_model_state


def _state(m) -> dict:
    return {
        "id": m.public_id,
        "name": m.name,
        "training_mix": m.counts,
        "model": m.job.result.key if m.job.result else None,
        **lab_model_state(m),
    }


class LabActionsMixin:
    @extend_schema(
        methods=["GET"],
        summary="Your lab models (students)",
        description="Your (team's) models in this experiment's lab, with their progress.",
        responses=LabModelStateSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Train a lab model (students)",
        description="Queue a small model on a mix you choose. Refused (400) before anything is queued when the "
        "lab is off, your quota is used, or the mix is not achievable (the message names the largest that is).",
        request=StartLabModelSerializer,
        responses={201: LabModelStateSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="lab/models", url_name="lab-models")
    def lab_models(self, request, public_id=None):
        if not request.user.is_student:
            raise NotFound()
        assignment = self.get_object()
        if request.method == "POST":
            data = StartLabModelSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            try:
                m = services.start_lab_model(assignment=assignment, student=request.user, **data.validated_data)
            except services.LabError as exc:
                raise ValidationError({"non_field_errors": [str(exc)]})
            return Response(LabModelStateSerializer(_state(m)).data, status=201)
        rows = lab_selectors.my_models(assignment, request.user)
        return Response(LabModelStateSerializer([_state(r.lab_model) for r in rows], many=True).data)

    @extend_schema(
        summary="The class chart's data",
        description="One point per finished model of the experiment (its own and the students' lab models): "
        "training share of the largest group against the gap between groups on held-out images, with "
        "intervals. Mixes, never students' names (a student's own points are marked).",
        responses=ChartSerializer,
    )
    @action(detail=True, methods=["get"], url_path="lab/chart", url_name="lab-chart")
    def lab_chart(self, request, public_id=None):
        assignment = self.get_object()
        points = lab_selectors.class_chart(assignment, request.user, names=request.user.is_teacher)
        return Response(ChartSerializer(lab_selectors.chart_data(points)).data)
