"""REST API representations of lessons, students' answers and a class's progress."""

from rest_framework import serializers

from ..models import Assignment
from ..selectors import usable_models
from .catalogue import MODEL_ROLES, QUESTION_KINDS
from .roles import cast
from .services import MAX_ANSWER, MAX_QUESTION


class PredictionQuestionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        QUESTION_KINDS,
        help_text="fairer_model / higher_overall: students choose a model; worst_group: a group; text: free text. "
        "Choice questions are checked against the class's results on the lesson page.",
    )
    text = serializers.CharField(max_length=MAX_QUESTION)
    model_role = serializers.ChoiceField(
        MODEL_ROLES, required=False, help_text="worst_group only: the model (by its role) the question is about."
    )


class CastingSerializer(serializers.Serializer):
    models = serializers.DictField(
        child=serializers.CharField(), help_text="Role -> the key of the installed model that plays it here."
    )
    missing = serializers.ListField(child=serializers.CharField(), help_text="Roles no installed model plays.")
    synthetic = serializers.BooleanField(help_text="The synthetic demo models stand in for real ones.")
    note = serializers.CharField(allow_blank=True)


class LessonSummarySerializer(serializers.Serializer):
    slug = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.CharField()
    age_band = serializers.CharField()
    duration_minutes = serializers.IntegerField()
    summary = serializers.CharField()
    learning_goals = serializers.ListField(child=serializers.CharField())
    models = serializers.ListField(child=serializers.CharField(), help_text="The model roles the lesson needs.")
    photo_source = serializers.CharField()
    tests_goal = serializers.IntegerField()


class LessonSerializer(LessonSummarySerializer):
    experiment_title = serializers.CharField()
    prediction_questions = PredictionQuestionSerializer(many=True)
    reflection_questions = serializers.ListField(child=serializers.CharField())
    perception_activity = serializers.BooleanField()
    audits = serializers.BooleanField(help_text="The lesson has an audit step (students audit a collection).")
    student_steps = serializers.CharField(help_text="Markdown, with [[placeholders]] filled per experiment.")
    teacher_guide = serializers.CharField(help_text="Markdown.")
    background = serializers.CharField(help_text="Markdown: background reading in plain words.")
    casting = serializers.SerializerMethodField()

    def get_casting(self, lesson) -> CastingSerializer:
        casting = cast(lesson.models, candidates=usable_models(self.context["request"].user))
        return {
            "models": {role: m.key for role, m in casting.models.items()},
            "missing": casting.missing,
            "synthetic": casting.synthetic,
            "note": casting.note(),
        }


# --- Experiments: create and update --------------------------------------------------------------


class AssignmentWriteSerializer(serializers.Serializer):
    """Every field optional on update; on create, a lesson fills what is not given."""

    classroom = serializers.UUIDField(required=False, help_text="Create only: the class (its id).")
    lesson = serializers.CharField(
        required=False, allow_blank=True, help_text="Create only: a lesson's slug (see /api/lessons/); empty: blank."
    )
    title = serializers.CharField(max_length=200, required=False)
    instructions = serializers.CharField(required=False, allow_blank=True, help_text="Markdown.")
    models = serializers.ListField(
        child=serializers.CharField(), required=False, min_length=1, help_text="Model keys, on one list of groups."
    )
    ask_expected = serializers.BooleanField(required=False)
    allow_uploads = serializers.BooleanField(required=False)
    opens_at = serializers.DateTimeField(required=False, allow_null=True)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    results_visibility = serializers.ChoiceField(Assignment.ResultsVisibility.choices, required=False)
    keep_photos_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=30, help_text="Null: photos deleted at once."
    )
    tests_goal = serializers.IntegerField(required=False, min_value=1, max_value=200)
    ask_predictions = serializers.BooleanField(required=False)
    prediction_questions = PredictionQuestionSerializer(many=True, required=False)
    reflection_questions = serializers.ListField(
        child=serializers.CharField(max_length=MAX_QUESTION), required=False, max_length=20
    )
    perception_activity = serializers.BooleanField(required=False)
    explain_answers = serializers.BooleanField(
        required=False, help_text="Saliency maps for uploads too (gallery tests always get one)."
    )
    audits_enabled = serializers.BooleanField(required=False, help_text="Students may audit collections of photos.")


# --- Students' predictions and reflections ------------------------------------------------------


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="What to send as the answer.")
    label = serializers.CharField()


class QuestionAnswerSerializer(serializers.Serializer):
    question = serializers.IntegerField(help_text="The question's index, from 0.")
    text = serializers.CharField()
    kind = serializers.CharField()
    choices = ChoiceSerializer(many=True, allow_null=True, help_text="Null: free text.")
    answer = serializers.CharField(allow_blank=True, help_text="Yours; empty when not answered.")


class LessonAnswersSerializer(serializers.Serializer):
    questions = QuestionAnswerSerializer(many=True)
    editable = serializers.BooleanField(help_text="Whether you can save answers now.")
    why_not = serializers.CharField(allow_blank=True, help_text="When not editable: why, in plain words.")
    required_before_testing = serializers.BooleanField(help_text="Predictions: your teacher asks for them first.")


class AnswerSerializer(serializers.Serializer):
    question = serializers.IntegerField(min_value=0)
    answer = serializers.CharField(allow_blank=True, max_length=MAX_ANSWER, help_text="Empty: remove your answer.")


class SaveAnswersSerializer(serializers.Serializer):
    answers = AnswerSerializer(many=True, min_length=1, max_length=50)


# --- Progress (teachers) ----------------------------------------------------------------------------


class StudentProgressSerializer(serializers.Serializer):
    username = serializers.CharField(source="student.username")
    display_name = serializers.CharField(source="student.display_name")
    started = serializers.BooleanField()
    tests = serializers.IntegerField()
    predicted = serializers.BooleanField()
    reflections = serializers.IntegerField(help_text="Reflection questions answered.")


class ChosenSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    students = serializers.IntegerField()


class PredictionSummarySerializer(serializers.Serializer):
    question = serializers.IntegerField()
    text = serializers.CharField()
    kind = serializers.CharField()
    total = serializers.IntegerField(help_text="Students who answered.")
    chosen = ChosenSerializer(many=True, help_text="Choice questions: how many chose each answer.")
    right_answer = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="What the class's results say (empty: not enough tests yet).",
    )
    right = serializers.IntegerField(allow_null=True, help_text="Students who predicted what happened.")
    headline = serializers.CharField(help_text='E.g. "14 of 22 predicted right. ..."')


class ProgressSerializer(serializers.Serializer):
    tests_goal = serializers.IntegerField()
    students = StudentProgressSerializer(many=True, help_text="Names: this is for the class's teacher only.")
    started = serializers.IntegerField()
    predicted = serializers.IntegerField()
    reflected = serializers.IntegerField()
    predictions = PredictionSummarySerializer(many=True)
