from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inference.models import BaseWeights
from training import composition
from training.models import Dataset, TrainingJob

from .models import Assignment, User
from .services.accounts import MAX_STUDENTS_PER_BATCH
from .services.submissions import MAX_NOTE_LENGTH, MORE_THAN_ONE, NOT_SURE


class TeacherSignupForm(UserCreationForm):
    email = forms.EmailField(
        required=True,
        label=_("Email"),
        help_text=_("For your own account only (a forgotten password is reset by email); students need none."),
    )
    invite_code = forms.CharField(
        required=False, label=_("Invitation code"), help_text=_("Your school's administrator gives you this code.")
    )

    class Meta:
        model = User
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not settings.TEACHER_INVITE_CODE:
            del self.fields["invite_code"]  # open signup: nothing to ask

    def clean_invite_code(self):
        import hmac

        code = self.cleaned_data.get("invite_code") or ""
        if not hmac.compare_digest(code.strip(), settings.TEACHER_INVITE_CODE):
            raise forms.ValidationError(gettext("That is not this school's invitation code. Ask your administrator."))
        return code


class ClassroomForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Class name"))


class AddStudentsForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=MAX_STUDENTS_PER_BATCH, label=_("Number of students"))


class RosterForm(forms.Form):
    roster = forms.FileField(
        label=_("Roster CSV"),
        help_text=_("One student per line: display name, and optionally a username. A header line is optional."),
    )

    def clean_roster(self):
        f = self.cleaned_data["roster"]
        if f.size > 200_000:
            raise forms.ValidationError(gettext("The roster file is too large (at most 200 KB)."))
        try:
            return f.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(gettext("The roster must be a UTF-8 text/CSV file."))


class JoinForm(forms.Form):
    code = forms.CharField(max_length=12, label=_("Class code"))


class SubmissionForm(forms.Form):
    photo = forms.FileField(
        label=_("Photo"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif",
                "data-max-bytes": settings.UPLOAD_MAX_BYTES,
                # static/js/photo-shrink.js: larger photos are made this size on the device
                "data-store-max-side": settings.UPLOAD_STORE_MAX_SIDE,
            }
        ),
    )
    expected_label = forms.ChoiceField(required=False, label=_("Group you expect (optional)"))
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_NOTE_LENGTH}),
        label=_("Your note (optional)"),
        help_text=_("What do you expect or notice? You can add or change it after the answer too."),
    )

    def __init__(self, *args, assignment: Assignment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photo"].help_text = gettext("JPEG, PNG, WebP or HEIC (iPhone), at most %(mb)s MB.") % {
            "mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)
        }
        if assignment.ask_expected:
            from .services.submissions import expected_choices

            # "Not sure" and "More than one group" are stored in English, like a group's name.
            shown = {NOT_SURE: gettext(NOT_SURE), MORE_THAN_ONE: gettext(MORE_THAN_ONE)}
            self.fields["expected_label"].choices = [("", gettext("— not saying —"))] + [
                (label, shown.get(label, label)) for label in expected_choices(assignment)
            ]
            if assignment.perception_activity:
                self.fields["expected_label"].label = gettext(
                    "Which group do you think this is? (before the models answer)"
                )
                self.fields["expected_label"].help_text = gettext(
                    'Your own view. "Not sure" and "More than one group" are good answers: '
                    "the class will compare how often people agree."
                )
        else:
            del self.fields["expected_label"]


class ConsentForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "I confirm that my school's consent policy allows this class to use EthiTech classroom, "
            "and that students (and parents, where the policy requires) have been informed."
        )
    )
    policy = forms.CharField(
        required=False,
        max_length=300,
        label=_("Which policy (name or link, optional)"),
        help_text=_("Kept with the class."),
    )


class ConfirmDeleteForm(forms.Form):
    confirm = forms.BooleanField(label=_("I understand that this cannot be undone."))


# --- Test gallery -------------------------------------------------------------------


class GalleryImageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return ""  # the page shows the image itself; its group stays hidden until the models answer


class GalleryPickForm(SubmissionForm):
    """A test with a gallery image instead of an upload; the expected group and note work the same."""

    gallery_image = GalleryImageChoiceField(
        queryset=None,
        to_field_name="public_id",
        widget=forms.RadioSelect,
        empty_label=None,
        label=_("Pick an image"),
        error_messages={
            "required": _("Pick an image from the gallery."),
            "invalid_choice": _("That image is not in this experiment's gallery. Pick one shown on the page."),
        },
    )
    field_order = ["gallery_image", "expected_label", "note"]

    def __init__(self, *args, assignment: Assignment, gallery, **kwargs):
        kwargs.setdefault("prefix", "gallery")
        super().__init__(*args, assignment=assignment, **kwargs)
        del self.fields["photo"]
        self.fields["gallery_image"].queryset = gallery


class PublishGalleryForm(forms.Form):
    dataset = forms.ModelChoiceField(
        queryset=Dataset.objects.select_related("label_set").order_by("name"),
        to_field_name="key",
        empty_label=None,
        label=_("Dataset"),
        help_text=_("Images come from its held-out (test) split, never from what models are trained on."),
    )
    per_group = forms.IntegerField(min_value=1, max_value=50, initial=4, label=_("Images per group"))


# --- Training jobs --------------------------------------------------------------------

MIX_KINDS = [
    ("balanced", _("Balanced: the same number of every group")),
    ("k_times", _("k times as many of one group")),
    ("counts", _("Explicit counts per group")),
    ("cap", _("Everything, at most N per group")),
]


class MixForm(forms.Form):
    """A dataset and a mix, as training.composition understands it. Used by the live
    composition chart (GET) and by the job form."""

    dataset = forms.ModelChoiceField(
        queryset=Dataset.objects.select_related("label_set").order_by("name"),
        to_field_name="key",
        empty_label=None,
        label=_("Dataset"),
        error_messages={"invalid_choice": _("Choose one of the imported datasets.")},
    )
    mix_kind = forms.ChoiceField(choices=MIX_KINDS, initial="balanced", label=_("Mix"))
    per_group = forms.IntegerField(
        required=False,
        min_value=1,
        label=_("Images per group"),
        help_text=_("Empty: as many as the smallest group has."),
    )
    majority = forms.ChoiceField(required=False, label=_("Over-represented group"))
    k = forms.IntegerField(required=False, min_value=1, max_value=100, initial=10, label=_("k (times as many)"))
    per_minority = forms.IntegerField(
        required=False, min_value=1, label=_("Images of each other group"), help_text=_("Empty: as many as possible.")
    )
    cap = forms.IntegerField(required=False, min_value=1, label=_("At most N per group"))
    MAX_GROUPS = 16  # count_0 .. count_15: one explicit count per group, in label-set order

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = None
        # Group names come from the chosen dataset (the page's script swaps them when it changes).
        key = self.data.get(self.add_prefix("dataset")) if self.is_bound else None
        datasets = self.fields["dataset"].queryset
        dataset = (datasets.filter(key=key).first() if key else None) or datasets.first()
        self.groups = list(dataset.label_set.labels) if dataset else []
        self.fields["majority"].choices = [(g, g) for g in self.groups]
        for i in range(self.MAX_GROUPS):
            label = self.groups[i] if i < len(self.groups) else gettext("Group %(n)s") % {"n": i + 1}
            self.fields[f"count_{i}"] = forms.IntegerField(required=False, min_value=0, label=label)

    def count_fields(self):
        """The explicit-count inputs, one per group of the chosen dataset (and the unused rest)."""
        return [(self[f"count_{i}"], i < len(self.groups)) for i in range(self.MAX_GROUPS)]

    def _mix(self, d: dict, groups: list[str]) -> dict:
        kind = d.get("mix_kind")
        if kind == "balanced":
            return {"kind": "balanced", **({"per_group": d["per_group"]} if d.get("per_group") else {})}
        if kind == "k_times":
            if d.get("majority") not in groups:
                raise forms.ValidationError(gettext("Choose the over-represented group."))
            mix = {"kind": "k_times", "majority": d["majority"], "k": d.get("k") or 10}
            return {**mix, **({"per_minority": d["per_minority"]} if d.get("per_minority") else {})}
        if kind == "counts":
            counts = {g: d.get(f"count_{i}") or 0 for i, g in enumerate(groups[: self.MAX_GROUPS])}
            if not any(counts.values()):
                raise forms.ValidationError(gettext("Give at least one group a count."))
            return {"kind": "counts", "counts": counts}
        if not d.get("cap"):
            raise forms.ValidationError(gettext("Say how many images per group at most."))
        return {"kind": "cap", "cap": d["cap"]}

    def clean(self):
        d = super().clean()
        dataset = d.get("dataset")
        if dataset is None or self.errors:
            return d
        groups = list(dataset.label_set.labels)
        d["mix"] = self._mix(d, groups)
        try:
            self.plan = composition.plan(d["mix"], composition.available(dataset))
        except (composition.CompositionError, ValueError) as exc:
            raise forms.ValidationError(str(exc))
        if not any(self.plan["available"].values()):
            raise forms.ValidationError(gettext("This dataset has no training images."))
        return d


# What a teacher trains on the Training page (lab models, evaluations and imports start elsewhere).
TEACHER_TRAINS = (TrainingJob.Kind.MLP, TrainingJob.Kind.VGG_HEAD, TrainingJob.Kind.VGG_FINETUNE)


class TrainingJobForm(MixForm):
    kind = forms.ChoiceField(
        choices=[(k.value, k.label) for k in TEACHER_TRAINS],
        label=_("Model family"),
        help_text=_(
            "MLP: a small model, trained in seconds on the server's processor. VGG-Face head: reuses a large "
            "face model as it is and trains only its last step, in minutes. VGG-Face fine-tune: also retrains the "
            "large model's top layers; it needs a graphics card, so it waits until the server's GPU worker runs. "
            "The model card has the technical detail."
        ),
    )
    base = forms.ModelChoiceField(
        queryset=BaseWeights.objects.order_by("name"),
        to_field_name="key",
        required=False,
        empty_label=_("Random VGG-Face base (not pretrained: for trying things out)"),
        label=_("VGG-Face base"),
        help_text=_("Only for the VGG-Face families. Import pretrained weights with manage.py import_vggface_weights."),
    )
    test_per_group = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=100_000,
        label=_("Held-out images per group (for the model card)"),
        help_text=_("Empty: all of the dataset's held-out images."),
    )
    epochs = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=200,
        label=_("Epochs"),
        help_text=_("VGG-Face only. Empty: chosen for the size of the set (head), 29 as EmbRACE did (fine-tune)."),
    )
    samples_per_epoch = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1_000_000,
        label=_("Samples per epoch"),
        help_text=_("Fine-tune only. Empty: 16,000, as EmbRACE did."),
    )
    name = forms.CharField(required=False, max_length=120, label=_("Model name (optional)"))
    field_order = ["dataset", "kind", "base", "mix_kind"]

    def clean(self):
        d = super().clean()
        if self.errors or self.plan is None:
            return d
        if not self.plan["achievable"]:
            raise forms.ValidationError(self.plan["message"])
        if not sum(self.plan["counts"].values()):
            raise forms.ValidationError(gettext("This mix has no images to train on."))
        held_out = composition.available(d["dataset"], split="test")
        if not any(held_out.values()):
            raise forms.ValidationError(gettext("This dataset has no held-out images to evaluate the model on."))
        short = {g: n for g, n in held_out.items() if d.get("test_per_group") and n < d["test_per_group"]}
        if short:
            detail = ", ".join(f"{g}: {composition.number(n)}" for g, n in short.items())
            self.add_error(
                "test_per_group",
                gettext("The held-out split has fewer images than that (%(detail)s). Choose a smaller number.")
                % {"detail": detail},
            )
        return d

    def params(self) -> dict:
        """Job parameters as training.services.jobs understands them."""
        d = self.cleaned_data
        params = {"dataset": d["dataset"].key, "mix": d["mix"]}
        if d.get("test_per_group"):
            params["test_per_group"] = d["test_per_group"]
        if d["kind"] != TrainingJob.Kind.MLP and d.get("epochs"):
            params["epochs"] = d["epochs"]
        if d.get("name"):
            params["name"] = d["name"].strip()
        if d["kind"] != TrainingJob.Kind.MLP and d.get("base"):
            params["base"] = d["base"].key
        if d["kind"] == TrainingJob.Kind.VGG_FINETUNE and d.get("samples_per_epoch"):
            params["samples_per_epoch"] = d["samples_per_epoch"]
        return params


class NoteForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_NOTE_LENGTH}),
        label=_("Your note"),
        help_text=_("What do you notice about these answers? Only you and your teacher see it."),
    )
