"""Lesson forms: an experiment (blank, or pre-filled from a lesson template: every text stays
editable) and a student's answers to the prediction and reflection questions."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inference.models import ModelVersion

from .. import selectors
from ..models import MAX_KEEP_PHOTOS_DAYS, Assignment


class ModelChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} — {obj.label_set.name}"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


QUESTION_KIND_HELP = {
    "fairer_model": _(
        "Students choose a model; checked against the class results (smaller gap between groups). "
        "Leave empty to drop it."
    ),
    "higher_overall": _(
        "Students choose a model; checked against the class results (higher overall accuracy). Leave empty to drop it."
    ),
    "worst_group": _(
        "Students choose a group; checked against the class results for the named model. Leave empty to drop it."
    ),
    "text": _("Free text. Leave empty to drop it."),
}


class AssignmentForm(forms.Form):
    """An experiment: blank, or pre-filled from a lesson template (every text stays editable)."""

    lesson = forms.CharField(required=False, widget=forms.HiddenInput)
    title = forms.CharField(max_length=200, label=_("Title"))
    instructions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}),
        required=False,
        label=_("Instructions for students"),
        help_text=_("Markdown. Students see this at the top of the experiment."),
    )
    model_versions = ModelChoiceField(
        queryset=ModelVersion.objects.filter(active=True).select_related("label_set"),
        widget=forms.CheckboxSelectMultiple,
        label=_("Models to compare"),
    )
    ask_expected = forms.BooleanField(
        required=False, initial=True, label=_("Let students say which group they expect (always optional for them)")
    )
    allow_uploads = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Let students upload their own photos"),
        help_text=_(
            "Off by default once the class has a test gallery: students then pick labelled gallery images, "
            "so nobody needs photos of real people and accuracy needs no guessing. Without a gallery for "
            "the chosen models' groups, students always upload (public figures or stock images only)."
        ),
    )
    opens_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        label=_("Opens at"),
        help_text=_("Empty: now."),
    )
    due_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label=_("Due at")
    )
    results_visibility = forms.ChoiceField(
        choices=Assignment.ResultsVisibility.choices, label=_("Students see class results")
    )
    keep_photos = forms.BooleanField(
        required=False,
        initial=False,
        label=_("Keep photos for a while after the models answer (off: each photo is deleted at once)"),
        help_text=_("Only if your school's consent policy allows it. Photos are never shown to anyone."),
    )
    keep_photos_days = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_KEEP_PHOTOS_DAYS, label=_("Days to keep photos (1 to 30)")
    )
    tests_goal = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=200,
        initial=10,
        label=_("Tests each student is asked to do"),
        help_text=_('Students see "7 of the 10 tests your teacher asked for".'),
    )
    ask_predictions = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Students answer the prediction questions before their first test"),
        help_text=_("Predict, test, observe, explain: a prediction made first is what makes the results surprising."),
    )
    extra_predictions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("More prediction questions (free text, one per line)"),
    )
    reflection_questions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Reflection questions (one per line)"),
        help_text=_("Students answer these after they have seen answers and results."),
    )
    perception_activity = forms.BooleanField(
        required=False,
        label=_('"Who decides the label?" activity: students record the group they perceive before the models answer'),
        help_text=_(
            'Adds "Not sure" and "More than one group" to the choices; your lesson page shows how often '
            "the class agreed with each other and with the dataset's labels."
        ),
    )
    explain_answers = forms.BooleanField(
        required=False,
        initial=True,
        label=_('Show "what the model looked at" for uploaded photos too'),
        help_text=_(
            "A small map per answer, made while the photo still exists and kept as numbers, never as an "
            "image. Gallery tests always get one."
        ),
    )
    audits_enabled = forms.BooleanField(
        required=False,
        label=_("Students can audit collections of photos"),
        help_text=_(
            "They upload photos (or a zip) and see how many of each group the models estimate, counted and "
            "corrected for each model's mistakes. You can always run audits yourself, also on a gallery draw."
        ),
    )
    field_order = [
        "lesson",
        "title",
        "instructions",
        "model_versions",
        "ask_predictions",
        "extra_predictions",
        "reflection_questions",
        "tests_goal",
    ]

    def __init__(
        self, *args, user=None, current=None, questions: list[dict] | None = None, models_locked=False, **kwargs
    ):
        """`questions`: the structured prediction questions (from the lesson, or the experiment being
        edited); each gets a text field. On a POST their kinds come back in hidden fields."""
        super().__init__(*args, **kwargs)
        # Only models this teacher may use (and, when editing, the experiment's own).
        usable = selectors.usable_models(user)
        if current is not None:
            usable = usable | ModelVersion.objects.filter(pk__in=current.model_versions.values("pk"))
        self.fields["model_versions"].queryset = usable.select_related("label_set").distinct()
        if self.is_bound:
            questions = []
            raw = str(self.data.get("pq_count") or "0")
            count = min(int(raw), 20) if raw.isdigit() else 0
            for i in range(count):
                kind, _, role = (self.data.get(f"pq_{i}_spec") or "").partition(":")
                questions.append({"kind": kind, "text": "", **({"model_role": role} if role else {})})
        self.structured = [q for q in (questions or []) if q.get("kind") != "text"]
        for i, q in enumerate(self.structured):
            self.fields[f"pq_{i}"] = forms.CharField(
                required=False,
                max_length=500,
                initial=q.get("text", ""),
                label=gettext("Prediction question %(n)s") % {"n": i + 1},
                help_text=QUESTION_KIND_HELP.get(q.get("kind")) or gettext("Leave empty to drop it."),
            )
        if questions and not self.is_bound:
            free = [q["text"] for q in questions if q.get("kind") == "text"]
            self.initial.setdefault("extra_predictions", "\n".join(free))
        if models_locked:
            self.fields["model_versions"].disabled = True
            self.fields["model_versions"].help_text = gettext(
                "Students have tested photos, so the models cannot change."
            )

    def question_fields(self):
        return [(self[f"pq_{i}"], q) for i, q in enumerate(self.structured)]

    def question_specs(self):
        """Hidden inputs the template writes so a POST knows each question's kind."""
        return [(i, f"{q['kind']}:{q.get('model_role', '')}".rstrip(":")) for i, q in enumerate(self.structured)]

    def prediction_questions(self) -> list[dict]:
        d = self.cleaned_data
        out = []
        for i, q in enumerate(self.structured):
            text = (d.get(f"pq_{i}") or "").strip()
            if text and q.get("kind") in QUESTION_KIND_HELP:
                out.append({**q, "text": text})
        return out + [{"kind": "text", "text": t[:500]} for t in _lines(d.get("extra_predictions"))]

    def reflection_list(self) -> list[str]:
        return [t[:500] for t in _lines(self.cleaned_data.get("reflection_questions"))]

    def clean(self):
        data = super().clean()
        keep, days = data.get("keep_photos"), data.get("keep_photos_days")
        if keep and not days:
            self.add_error(
                "keep_photos_days",
                gettext("Say how many days to keep photos (1 to %(max)s).") % {"max": MAX_KEEP_PHOTOS_DAYS},
            )
        elif days and not keep:
            self.add_error("keep_photos", gettext("Tick this box to keep photos, or leave the number of days empty."))
        models = data.get("model_versions")
        if models and len({m.label_set_id for m in models}) > 1:
            raise forms.ValidationError(gettext("The models you compare must use the same list of groups."))
        opens, due = data.get("opens_at"), data.get("due_at")
        if opens and due and due <= opens:
            self.add_error("due_at", gettext("The due date must be after the opening date."))
        if data.get("results_visibility") == Assignment.ResultsVisibility.AFTER_DUE and not due:
            self.add_error("due_at", gettext("Set a due date, or choose another time for students to see results."))
        return data


class LessonAnswersForm(forms.Form):
    """One field per question: a choice for structured prediction questions, text otherwise."""

    def __init__(self, *args, questions: list, choices: list, initial_answers: dict, disabled: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for i, (q, opts) in enumerate(zip(questions, choices, strict=True)):
            text = q["text"] if isinstance(q, dict) else q
            if opts is None:
                field = forms.CharField(
                    required=False, max_length=2000, label=text, widget=forms.Textarea(attrs={"rows": 3})
                )
            else:
                field = forms.ChoiceField(required=False, choices=opts, label=text, widget=forms.RadioSelect)
            field.initial = initial_answers.get(i, "")
            field.disabled = disabled
            self.fields[f"q{i}"] = field

    def answers(self) -> dict[int, str]:
        return {int(name[1:]): value for name, value in self.cleaned_data.items()}
