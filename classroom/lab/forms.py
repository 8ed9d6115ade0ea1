"""Lab forms: the teacher's settings (dataset, mixes, bounds, teams) and a student's mix."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from training.models import Dataset

from ..models import Assignment, User
from .services import MIX_NAMES

MAX_GROUPS = 16


class LabSettingsForm(forms.Form):
    enabled = forms.BooleanField(required=False, label=_("Students train their own models in this experiment"))
    dataset = forms.ModelChoiceField(
        queryset=Dataset.objects.none(),
        required=False,
        to_field_name="key",
        label=_("Dataset students train on"),
        help_text=_("Only datasets with this experiment's groups. Synthetic ones are drawings, not people."),
    )
    mixes = forms.MultipleChoiceField(
        choices=list(MIX_NAMES.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Mixes students may choose"),
    )
    max_k = forms.IntegerField(
        min_value=1, max_value=50, initial=10, label=_('Most "times as many" a student may choose (e.g. 10)')
    )
    images_per_model = forms.IntegerField(
        min_value=50,
        max_value=5000,
        initial=300,
        label=_("Training images per model"),
        help_text=_("A few hundred train in seconds. Students choosing their own counts may use up to this many."),
    )
    models_per_student = forms.IntegerField(
        min_value=1, max_value=20, initial=3, label=_("Models each student (or team) may train")
    )
    teams = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Teams (optional)"),
        help_text=_(
            "One team per line: a team name, a colon, then usernames separated by commas, e.g. "
            "“Red: student01, student02”. A team shares its models. Leave empty: everyone trains alone."
        ),
    )

    def __init__(self, *args, assignment: Assignment, **kwargs):
        super().__init__(*args, **kwargs)
        self.assignment = assignment
        self.fields["dataset"].queryset = Dataset.objects.filter(label_set=assignment.label_set).order_by("name")

    def clean_teams(self) -> dict[str, list[User]]:
        students = {s.username: s for s in self.assignment.classroom.students.all()}
        teams = {}
        for n, line in enumerate((self.cleaned_data.get("teams") or "").splitlines(), 1):
            if not line.strip():
                continue
            name, colon, members = line.partition(":")
            if not colon or not name.strip():
                raise forms.ValidationError(
                    gettext("Line %(line)s: write a team name, a colon, then usernames.") % {"line": n}
                )
            names = [m.strip() for m in members.split(",") if m.strip()]
            unknown = [m for m in names if m not in students]
            if unknown:
                raise forms.ValidationError(
                    gettext("Line %(line)s: not in this class: %(usernames)s.")
                    % {"line": n, "usernames": ", ".join(unknown)}
                )
            teams[name.strip()] = [students[m] for m in names]
        return teams


def teams_text(assignment: Assignment) -> str:
    return "\n".join(
        f"{t.name}: {', '.join(sorted(m.username for m in t.members.all()))}"
        for t in assignment.lab_teams.prefetch_related("members").order_by("name")
    )


class LabModelForm(forms.Form):
    """A student's mix. Field names are the teacher's training form's, so the same script draws
    the live chart and table (static/js/training-form.js)."""

    name = forms.CharField(
        max_length=60, label=_("Name your model"), help_text=_("Not your own name: classmates may see the chart.")
    )
    mix_kind = forms.ChoiceField(label=_("Mix"))
    majority = forms.ChoiceField(required=False, label=_("The group it sees more of"))
    k = forms.IntegerField(required=False, min_value=1, initial=10, label=_("How many times as many pictures"))

    def __init__(self, *args, assignment: Assignment, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = list(assignment.label_set.labels)
        self.fields["mix_kind"].choices = [(m, MIX_NAMES[m]) for m in assignment.lab_mixes if m in MIX_NAMES]
        self.fields["majority"].choices = [(g, g) for g in self.groups]
        self.fields["k"].max_value = assignment.lab_max_k
        self.fields["k"].widget.attrs["max"] = assignment.lab_max_k
        self.fields["k"].initial = min(10, assignment.lab_max_k)
        each = assignment.lab_images_per_model // max(1, len(self.groups))
        for i, g in enumerate(self.groups[:MAX_GROUPS]):
            self.fields[f"count_{i}"] = forms.IntegerField(required=False, min_value=0, initial=each, label=g)

    def count_fields(self):
        return [(self[f"count_{i}"], True) for i in range(min(len(self.groups), MAX_GROUPS))]

    def choice(self) -> dict:
        """The service's keyword arguments."""
        d = self.cleaned_data
        return {
            "kind": d["mix_kind"],
            "majority": d.get("majority") or "",
            "k": d.get("k") or 1,
            "counts": {g: d.get(f"count_{i}") or 0 for i, g in enumerate(self.groups[:MAX_GROUPS])},
        }
