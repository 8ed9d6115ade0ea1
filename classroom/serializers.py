"""REST API representations. Ids are the public UUIDs; nothing class-wide names a student."""

from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inference.models import ModelVersion

from .lessons.serializers import PredictionQuestionSerializer
from .models import Assignment, Classroom, Prediction, Submission, User
from .services.submissions import MAX_NOTE_LENGTH
from .visibility import results_visible

GUESS_HELP = "What this model guesses. A guess, not a fact about anyone: see the model card."


class ModelSummarySerializer(serializers.ModelSerializer):
    labels = serializers.ListField(child=serializers.CharField(), source="label_set.labels", read_only=True)
    model_card = serializers.SerializerMethodField(help_text="The model's card: training data and accuracy per group.")

    class Meta:
        model = ModelVersion
        fields = ["key", "name", "family", "scope", "synthetic", "pretrained", "labels", "model_card"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_model_card(self, obj) -> str:
        url = reverse("model_card", args=[obj.key])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ClassroomSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Classroom
        fields = ["id", "name", "created_at"]


class AssignmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    classroom = serializers.UUIDField(source="classroom.public_id", read_only=True)
    labels = serializers.ListField(child=serializers.CharField(), source="label_set.labels", read_only=True)
    models = ModelSummarySerializer(source="model_versions", many=True, read_only=True)
    results_visible = serializers.SerializerMethodField(help_text="Whether you may see the class results now.")
    lesson = serializers.CharField(source="lesson_key", read_only=True, help_text="The lesson's slug; empty: blank.")
    prediction_questions = PredictionQuestionSerializer(many=True, read_only=True)
    reflection_questions = serializers.ListField(child=serializers.CharField(), read_only=True)
    model_roles = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="The lesson's role -> the model key playing it."
    )

    class Meta:
        model = Assignment
        fields = [
            "id",
            "classroom",
            "title",
            "instructions",
            "labels",
            "models",
            "ask_expected",
            "allow_uploads",
            "opens_at",
            "due_at",
            "closed_at",
            "results_visibility",
            "results_released",
            "results_visible",
            "keep_photos_days",
            "lesson",
            "lesson_version",
            "tests_goal",
            "ask_predictions",
            "prediction_questions",
            "reflection_questions",
            "model_roles",
            "perception_activity",
            "explain_answers",
            "audits_enabled",
        ]

    def get_results_visible(self, obj) -> bool:
        return results_visible(self.context["request"].user, obj)


class SaliencySerializer(serializers.Serializer):
    method = serializers.ChoiceField(
        ["occlusion", "gradcam", "feature_occlusion"],
        help_text="occlusion: how much hiding each cell lowered the guessed group's probability; gradcam: "
        "where the last convolution block's evidence for the guess lies (0..1); feature_occlusion (VGG-Face in "
        "int8): how much setting each of pool5's cells to zero lowered the guessed group's probability.",
    )
    grid = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()), help_text="Rows, top to bottom of the face crop."
    )
    params = serializers.DictField(help_text="The method's settings (cell size, layer, ...).")


class PredictionSerializer(serializers.ModelSerializer):
    submission = serializers.UUIDField(source="submission.public_id", read_only=True)
    model = serializers.CharField(source="model_version.key", read_only=True)
    model_name = serializers.CharField(source="model_version.name", read_only=True)
    model_card = serializers.SerializerMethodField()
    label = serializers.CharField(read_only=True, help_text=GUESS_HELP)
    probabilities = serializers.DictField(child=serializers.FloatField(), read_only=True)
    saliency = SaliencySerializer(
        read_only=True, allow_null=True, help_text="What this model looked at: a small grid of numbers, not an image."
    )
    precision = serializers.CharField(
        read_only=True,
        help_text="The number format the model computed this answer in: float32, or bfloat16 or int8 (VGG-Face "
        "where the platform is set to it); empty for models without a choice.",
    )

    class Meta:
        model = Prediction
        fields = [
            "submission",
            "model",
            "model_name",
            "model_card",
            "status",
            "label",
            "probabilities",
            "face_found",
            "latency_ms",
            "precision",
            "error",
            "saliency",
            "created_at",
            "finished_at",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_model_card(self, obj) -> str:
        return ModelSummarySerializer(context=self.context).get_model_card(obj.model_version)


class StudentSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["username", "display_name"]


class SubmissionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    assignment = serializers.UUIDField(source="assignment.public_id", read_only=True)
    photo_deleted = serializers.SerializerMethodField()
    student = serializers.SerializerMethodField(help_text="Who submitted it: shown to their teacher only.")
    predictions = PredictionSerializer(many=True, read_only=True)

    class Meta:
        model = Submission
        fields = ["id", "assignment", "student", "created_at", "expected_label", "note", "photo_deleted", "predictions"]

    def get_photo_deleted(self, obj) -> bool:
        return obj.photo_deleted_at is not None

    @extend_schema_field(StudentSerializer(allow_null=True))
    def get_student(self, obj):
        if not self.context["request"].user.is_teacher:
            return None
        return StudentSerializer(obj.student).data


class SubmissionCreateSerializer(serializers.Serializer):
    assignment = serializers.UUIDField(help_text="The experiment (its id).")
    photo = serializers.FileField(
        required=False, help_text="JPEG, PNG or WebP. Use photos of public figures or stock images. Or:"
    )
    gallery_image = serializers.UUIDField(
        required=False, help_text="An image of the class's test gallery (its id), instead of a photo."
    )
    expected_label = serializers.CharField(required=False, allow_blank=True, default="", help_text="Optional.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=MAX_NOTE_LENGTH)

    def validate(self, data):
        if ("photo" in data) == ("gallery_image" in data):
            raise serializers.ValidationError(gettext("Send a photo or a gallery image (one of them)."))
        return data


# --- Aggregated results (the shape of classroom.results.as_dict) ---------------------
# Counts may be null for students: classroom/results/small_counts.py withholds those from 1 to 4.


class HeldOutSerializer(serializers.Serializer):
    accuracy = serializers.FloatField()
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField(allow_null=True)


class GroupResultSerializer(serializers.Serializer):
    group = serializers.CharField()
    total = serializers.IntegerField(
        help_text="Answered tests of this group: a gallery image's known group, else the one the student expected."
    )
    correct = serializers.IntegerField(allow_null=True)
    images = serializers.IntegerField(help_text="Different images tested: each gallery image counts once.")
    images_correct = serializers.IntegerField(help_text="Of those, answered right (a gallery image's first test).")
    enough = serializers.BooleanField(help_text="At least min_tests different images: else no accuracy is given.")
    accuracy = serializers.FloatField(allow_null=True, help_text="images_correct / images; null when not enough.")
    low = serializers.FloatField(allow_null=True, help_text="95% Wilson interval, lower bound.")
    high = serializers.FloatField(allow_null=True, help_text="95% Wilson interval, upper bound.")
    held_out = HeldOutSerializer(allow_null=True, help_text="The model card's numbers on its held-out test images.")
    no_face = serializers.IntegerField(allow_null=True)
    uploads_looked = serializers.IntegerField(help_text="Uploads a face was looked for (gallery images are crops).")
    face_not_found_rate = serializers.FloatField(allow_null=True)
    mine_total = serializers.IntegerField(allow_null=True, help_text="Your own tests (students only).")
    mine_correct = serializers.IntegerField(allow_null=True)


class DistributionSerializer(serializers.Serializer):
    group = serializers.CharField()
    predicted = serializers.IntegerField(help_text="Guesses of this group, over all answered tests.")
    expected = serializers.IntegerField(help_text="Answered tests expecting this group.")
    predicted_known = serializers.IntegerField(help_text="Guesses of this group, on tests with an expected group.")


class ConfusionRowSerializer(serializers.Serializer):
    expected = serializers.CharField()
    total = serializers.IntegerField(allow_null=True)
    counts = serializers.ListField(
        child=serializers.IntegerField(allow_null=True), help_text="Guesses, in label order."
    )


class DisparitySerializer(serializers.Serializer):
    best = serializers.CharField()
    worst = serializers.CharField()
    best_accuracy = serializers.FloatField()
    worst_accuracy = serializers.FloatField()
    gap = serializers.FloatField(help_text="Largest accuracy gap between groups.")
    ratio = serializers.FloatField(allow_null=True, help_text="Lowest accuracy divided by highest.")
    clear = serializers.BooleanField(help_text="The two groups' 95% intervals do not overlap.")
    overlap = serializers.BooleanField(help_text="The two groups' 95% intervals overlap: the gap may be chance.")


class TrendPointSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    tests = serializers.IntegerField(help_text="Tests with an expected group so far.")
    accuracy = serializers.ListField(child=serializers.FloatField(allow_null=True), help_text="So far, label order.")
    gap = serializers.FloatField(allow_null=True)


class MineSerializer(serializers.Serializer):
    done = serializers.IntegerField(allow_null=True)
    with_expected = serializers.IntegerField(allow_null=True)
    correct = serializers.IntegerField(allow_null=True)


class ModelResultsSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    model_card = serializers.CharField()
    synthetic = serializers.BooleanField()
    labels = serializers.ListField(child=serializers.CharField())
    done = serializers.IntegerField(allow_null=True)
    pending = serializers.IntegerField(allow_null=True)
    failed = serializers.IntegerField(allow_null=True)
    no_face = serializers.IntegerField(allow_null=True)
    uploads_looked = serializers.IntegerField(allow_null=True)
    face_not_found_rate = serializers.FloatField(allow_null=True)
    unknown_group = serializers.IntegerField(help_text="Answered tests without an expected group.")
    no_face_unknown_group = serializers.IntegerField(allow_null=True)
    with_expected = serializers.IntegerField(allow_null=True)
    correct = serializers.IntegerField(allow_null=True)
    enough = serializers.BooleanField(help_text="Every tested group has at least min_tests images.")
    accuracy = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    min_tests = serializers.IntegerField(help_text="Different images a group needs before a rate is shown.")
    images = serializers.IntegerField(allow_null=True)
    images_correct = serializers.IntegerField(allow_null=True)
    over_represented = serializers.CharField(allow_null=True, help_text="The group most seen in training, if unequal.")
    groups = GroupResultSerializer(many=True)
    distribution = DistributionSerializer(many=True)
    confusion = ConfusionRowSerializer(many=True)
    disparity = DisparitySerializer(allow_null=True)
    trend = TrendPointSerializer(many=True)
    mine = MineSerializer(allow_null=True)


class PairGroupSerializer(serializers.Serializer):
    group = serializers.CharField()
    a_only = serializers.IntegerField(help_text="Model a guesses this group, model b another.")
    b_only = serializers.IntegerField(allow_null=True)


class PairResultsSerializer(serializers.Serializer):
    a = serializers.CharField()
    b = serializers.CharField()
    both = serializers.IntegerField(allow_null=True)
    agree = serializers.IntegerField(allow_null=True)
    agreement = serializers.FloatField(allow_null=True)
    highlight = serializers.CharField(allow_null=True)
    groups = PairGroupSerializer(many=True)
    disagree_known = serializers.IntegerField(allow_null=True)
    a_right = serializers.IntegerField(allow_null=True)
    b_right = serializers.IntegerField(allow_null=True)
    neither_right = serializers.IntegerField(allow_null=True)


class ResultsSerializer(serializers.Serializer):
    granularity = serializers.CharField(allow_null=True, help_text="Trend bucket: minute, hour, day or week.")
    first = serializers.DateTimeField(allow_null=True)
    last = serializers.DateTimeField(allow_null=True)
    shows_mine = serializers.BooleanField()
    models = ModelResultsSerializer(many=True)
    pairs = PairResultsSerializer(many=True)
    small_counts_hidden_below = serializers.IntegerField(
        required=False,
        help_text="Students only: class-wide counts from 1 to this minus one are null (withheld, so nobody in a "
        "small class is singled out), and there is no trend by time.",
    )


class ExportRowSerializer(serializers.Serializer):
    test = serializers.IntegerField(help_text="Test number in this export.")
    student = serializers.CharField(help_text="A random pseudonym, new for every export.")
    submitted_at = serializers.DateTimeField()
    expected_group = serializers.CharField(allow_blank=True, help_text="Empty when the student did not say.")
    known_group = serializers.CharField(allow_blank=True, help_text="A gallery image's label; empty for uploads.")
    model = serializers.CharField()
    status = serializers.CharField()
    guess = serializers.CharField(allow_blank=True, help_text=GUESS_HELP)
    face_found = serializers.BooleanField(allow_null=True)
    probabilities = serializers.DictField(child=serializers.FloatField())
