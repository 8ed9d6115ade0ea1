"""REST API for the lab: students start a model and follow it; the class chart's data.
Mixed into the experiments' viewset (routes under /api/assignments/<id>/lab/)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from . import selectors as lab_selectors
from . import services
from .views import lab_model_state


class StartLabModelSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60, help_text="Not the student's own name: classmates see the chart.")
    kind = serializers.ChoiceField(list(services.MIX_NAMES), help_text="One the teacher allows (lab_mixes).")
    majority = serializers.CharField(required=False, allow_blank=True, help_text="k_times: the group seen more.")
    k = serializers.IntegerField(required=False, min_value=1, default=1, help_text="k_times: how many times as many.")
    counts = serializers.DictField(
        child=serializers.IntegerField(min_value=0), required=False, help_text="counts: images per group."
    )


class LabModelStateSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    training_mix = serializers.DictField(child=serializers.IntegerField())
    status = serializers.CharField()
    status_display = serializers.CharField()
    stage = serializers.CharField(allow_blank=True)
    percent = serializers.FloatField()
    place = serializers.IntegerField(help_text="Place in the training queue; 0 once running or finished.")
    waiting = serializers.CharField(allow_blank=True)
    eta_text = serializers.CharField(allow_blank=True)
    final = serializers.BooleanField()
    error = serializers.CharField(allow_blank=True)
    model_card = serializers.CharField(allow_null=True)
    model = serializers.CharField(allow_null=True, help_text="The model's key once trained.")


class GroupNumbersSerializer(serializers.Serializer):
    group = serializers.CharField()
    accuracy = serializers.FloatField()
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField(help_text="Held-out images of this group.")


class ChartPointSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField(help_text="The training mix in words: never the student.")
    reference = serializers.BooleanField(help_text="One of the experiment's own models.")
    mine = serializers.BooleanField()
    largest_share = serializers.FloatField(help_text="x: share of the largest group in the training mix.")
    largest_group = serializers.CharField()
    gap = serializers.FloatField(help_text="y: best group's held-out accuracy minus the worst's.")
    best = GroupNumbersSerializer()
    worst = GroupNumbersSerializer()
    overall = serializers.FloatField(allow_null=True)
    overall_low = serializers.FloatField(allow_null=True)
    overall_high = serializers.FloatField(allow_null=True)
    clear = serializers.BooleanField(help_text="The best and worst groups' 95% intervals do not overlap.")
    name = serializers.CharField(allow_blank=True, help_text="The model's name: for its teacher and own students.")


class ChartSerializer(serializers.Serializer):
    points = ChartPointSerializer(many=True)


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
