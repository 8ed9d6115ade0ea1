"""REST API for lessons: the library (teachers), students' own predictions and reflections,
and a class's progress (teachers). Thin adapters over lessons.services and lessons.selectors;
scoping as on the pages (a wrong role or another class is a 404)."""

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from ..models import LessonResponse
from . import catalogue, services
from . import selectors as lesson_selectors
from . import serializers as s


class LessonViewSet(viewsets.ViewSet):
    """The lesson library. Teachers only, as on the pages."""

    lookup_field = "slug"
    lookup_value_converter = "slug"
    serializer_class = s.LessonSerializer

    def _teacher(self, request):
        if not request.user.is_teacher:
            raise NotFound()

    @extend_schema(
        summary="Lessons (teachers)",
        description="Every lesson template installed: title, age band, duration, learning goals, "
        "the model roles it needs. Not paginated.",
        responses=s.LessonSummarySerializer(many=True),
    )
    def list(self, request):
        self._teacher(request)
        return Response(s.LessonSummarySerializer(catalogue.all_lessons(), many=True).data)

    @extend_schema(
        summary="One lesson (teachers)",
        description="The whole lesson: teacher guide, background, student steps and questions (Markdown), and "
        "which installed models would play its roles here. Create an experiment from it with "
        'POST /api/assignments/ {"lesson": slug, ...}.',
        responses=s.LessonSerializer,
    )
    def retrieve(self, request, slug=None):
        self._teacher(request)
        lesson = catalogue.get_lesson(slug)
        if lesson is None:
            raise NotFound(gettext("No such lesson."))
        return Response(s.LessonSerializer(lesson, context={"request": request}).data)


def _answers_payload(assignment, user, kind) -> dict:
    progress = lesson_selectors.my_progress(assignment, user)
    if kind == LessonResponse.Kind.PREDICTION:
        questions = list(assignment.prediction_questions)
        mine = progress.predictions
        editable, why_not = progress.tests == 0, gettext(services.PREDICTIONS_LOCKED)
    else:
        questions = [{"kind": "text", "text": t} for t in assignment.reflection_questions]
        mine = progress.reflections
        editable, why_not = progress.can_reflect, gettext(services.TOO_EARLY_TO_REFLECT)
    rows = []
    for i, q in enumerate(questions):
        choices = services.question_choices(assignment, q) if kind == LessonResponse.Kind.PREDICTION else None
        rows.append(
            {
                "question": i,
                "text": q["text"],
                "kind": q["kind"],
                "choices": [{"value": v, "label": label} for v, label in choices] if choices is not None else None,
                "answer": mine.get(i, ""),
            }
        )
    return {
        "questions": rows,
        "editable": editable,
        "why_not": "" if editable else why_not,
        "required_before_testing": kind == LessonResponse.Kind.PREDICTION and progress.must_predict,
    }


def _progress_payload(assignment) -> dict:
    rows = lesson_selectors.progress(assignment)
    summaries = lesson_selectors.prediction_summaries(assignment)
    return {
        "tests_goal": assignment.tests_goal,
        "students": rows,
        "started": sum(p.started for p in rows),
        "predicted": sum(p.predicted for p in rows),
        "reflected": sum(bool(p.reflections) for p in rows),
        "predictions": [
            {
                "question": p.index,
                "text": p.question["text"],
                "kind": p.question["kind"],
                "total": p.total,
                "chosen": [{"value": v, "label": label, "students": n} for v, label, n in p.answers],
                "right_answer": sorted(p.outcome.answer) if p.outcome else None,
                "right": p.right if p.outcome else None,
                "headline": p.headline,
            }
            for p in summaries
        ],
    }


class LessonActionsMixin:
    """Lesson routes under /api/assignments/<id>/ (mixed into the experiments' viewset)."""

    def _student_answers(self, request, kind, save):
        if not request.user.is_student:
            raise NotFound()  # a teacher tries the student's side with "Preview" on the pages
        assignment = self.get_object()
        if request.method == "POST":
            data = s.SaveAnswersSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            answers = {a["question"]: a["answer"] for a in data.validated_data["answers"]}
            try:
                save(assignment=assignment, student=request.user, answers=answers)
            except services.LessonAnswerError as exc:
                raise ValidationError({"answers": [str(exc)]})
        return Response(_answers_payload(assignment, request.user, kind))

    @extend_schema(
        methods=["GET"],
        summary="Your predictions (students)",
        description="The prediction questions, their choices and your answers. Answer before your first test; "
        "they lock once you start testing.",
        responses=s.LessonAnswersSerializer,
    )
    @extend_schema(
        methods=["POST"],
        summary="Save your predictions (students)",
        description='Send the answers you change, e.g. {"answers": [{"question": 0, "answer": "<a choice value>"}]}; '
        "an empty answer removes yours.",
        request=s.SaveAnswersSerializer,
        responses=s.LessonAnswersSerializer,
    )
    @action(detail=True, methods=["get", "post"])
    def predictions(self, request, public_id=None):
        return self._student_answers(request, LessonResponse.Kind.PREDICTION, services.save_predictions)

    @extend_schema(
        methods=["GET"],
        summary="Your reflections (students)",
        description="The reflection questions and your answers. They open once a model has answered one of your tests.",
        responses=s.LessonAnswersSerializer,
    )
    @extend_schema(
        methods=["POST"],
        summary="Save your reflections (students)",
        request=s.SaveAnswersSerializer,
        responses=s.LessonAnswersSerializer,
    )
    @action(detail=True, methods=["get", "post"])
    def reflections(self, request, public_id=None):
        return self._student_answers(request, LessonResponse.Kind.REFLECTION, services.save_reflections)

    @extend_schema(
        summary="Who has started (teachers)",
        description="Per student: tests done, predicted yet, reflections answered (names: for the class's teacher "
        "only); and per prediction question what the class chose against what its results say.",
        responses=s.ProgressSerializer,
    )
    @action(detail=True, methods=["get"])
    def progress(self, request, public_id=None):
        if not request.user.is_teacher:
            raise NotFound()
        assignment = self.get_object()
        return Response(s.ProgressSerializer(_progress_payload(assignment)).data)
