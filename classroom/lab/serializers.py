"""REST API representations for the lab: a student's mix, a lab model's progress, the class chart.
Field help texts are the API docs: for developers, in English."""

from rest_framework import serializers

from . import services


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
