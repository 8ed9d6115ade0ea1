from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm

from inference.models import ModelVersion

from .models import MAX_KEEP_PHOTOS_DAYS, Assignment, User
from .services.accounts import MAX_STUDENTS_PER_BATCH
from .services.submissions import MAX_NOTE_LENGTH


class TeacherSignupForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="For your own account only; students need no email.")

    class Meta:
        model = User
        fields = ("username", "email")


class ClassroomForm(forms.Form):
    name = forms.CharField(max_length=120, label="Class name")


class AddStudentsForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=MAX_STUDENTS_PER_BATCH, label="Number of students")


class RosterForm(forms.Form):
    roster = forms.FileField(
        label="Roster CSV",
        help_text="One student per line: display name, and optionally a username. A header line is optional.",
    )

    def clean_roster(self):
        f = self.cleaned_data["roster"]
        if f.size > 200_000:
            raise forms.ValidationError("The roster file is too large (at most 200 KB).")
        try:
            return f.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The roster must be a UTF-8 text/CSV file.")


class JoinForm(forms.Form):
    code = forms.CharField(max_length=12, label="Class code")


class ModelChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} — {obj.label_set.name}"


class AssignmentForm(forms.Form):
    title = forms.CharField(max_length=200)
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False, help_text="Markdown.")
    model_versions = ModelChoiceField(
        queryset=ModelVersion.objects.filter(active=True).select_related("label_set"),
        widget=forms.CheckboxSelectMultiple,
        label="Models to compare",
    )
    ask_expected = forms.BooleanField(
        required=False, initial=True, label="Let students say which group they expect (always optional for them)"
    )
    opens_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="Empty: now."
    )
    due_at = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    results_visibility = forms.ChoiceField(
        choices=Assignment.ResultsVisibility.choices, label="Students see class results"
    )
    keep_photos = forms.BooleanField(
        required=False,
        initial=False,
        label="Keep photos for a while after the models answer (off: each photo is deleted at once)",
        help_text="Only if your school's consent policy allows it. Photos are never shown to anyone.",
    )
    keep_photos_days = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_KEEP_PHOTOS_DAYS, label="Days to keep photos (1 to 30)"
    )

    def clean(self):
        data = super().clean()
        keep, days = data.get("keep_photos"), data.get("keep_photos_days")
        if keep and not days:
            self.add_error("keep_photos_days", f"Say how many days to keep photos (1 to {MAX_KEEP_PHOTOS_DAYS}).")
        elif days and not keep:
            self.add_error("keep_photos", "Tick this box to keep photos, or leave the number of days empty.")
        models = data.get("model_versions")
        if models and len({m.label_set_id for m in models}) > 1:
            raise forms.ValidationError("The models you compare must use the same list of groups.")
        opens, due = data.get("opens_at"), data.get("due_at")
        if opens and due and due <= opens:
            self.add_error("due_at", "The due date must be after the opening date.")
        if data.get("results_visibility") == Assignment.ResultsVisibility.AFTER_DUE and not due:
            self.add_error("due_at", "Set a due date, or choose another time for students to see results.")
        return data


class SubmissionForm(forms.Form):
    photo = forms.FileField(
        help_text=f"JPEG, PNG, WebP or HEIC (iPhone), at most {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(
            attrs={
                "accept": "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif",
                "data-max-bytes": settings.UPLOAD_MAX_BYTES,
            }
        ),
    )
    expected_label = forms.ChoiceField(required=False, label="Group you expect (optional)")
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_NOTE_LENGTH}),
        label="Your note (optional)",
        help_text="Record what you notice, as EthiTech's users did.",
    )

    def __init__(self, *args, assignment: Assignment, **kwargs):
        super().__init__(*args, **kwargs)
        if assignment.ask_expected:
            self.fields["expected_label"].choices = [("", "— not saying —")] + [
                (label, label) for label in assignment.label_set.labels
            ]
        else:
            del self.fields["expected_label"]


class ConsentForm(forms.Form):
    confirm = forms.BooleanField(
        label=(
            "I confirm that my school's consent policy allows this class to use EthiTech classroom, "
            "and that students (and parents, where the policy requires) have been informed."
        )
    )
    policy = forms.CharField(
        required=False, max_length=300, label="Which policy (name or link, optional)", help_text="Kept with the class."
    )


class ConfirmDeleteForm(forms.Form):
    confirm = forms.BooleanField(label="I understand that this cannot be undone.")
