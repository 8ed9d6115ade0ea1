"""The audit form: which models, and which collection (uploaded photos or a zip; for the
teacher, also a draw of the class gallery with a chosen number of each group)."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inference.models import ModelVersion

from ..models import Assignment, GalleryImage


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class AuditForm(forms.Form):
    title = forms.CharField(
        max_length=120,
        required=False,
        label=_("Name (optional)"),
        help_text=_("For example: “Our school's posters”."),
    )
    models = forms.ModelMultipleChoiceField(
        queryset=ModelVersion.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=_("Models that look at the collection"),
        help_text=_("Choose two, such as the balanced and the unbalanced model, to compare them."),
    )
    source = forms.ChoiceField(
        choices=[("upload", _("Photos I upload")), ("gallery", _("Images from the class gallery"))],
        widget=forms.RadioSelect,
        initial="upload",
        label=_("The collection"),
    )
    files = MultipleFileField(
        required=False,
        label=_("Photos, or one zip file of photos"),
    )

    def __init__(self, *args, assignment: Assignment, teacher: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.assignment = assignment
        qs = assignment.model_versions.order_by("family", "key")
        self.fields["models"].queryset = qs
        self.fields["models"].initial = list(qs.values_list("pk", flat=True))
        self.fields["files"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp,image/heic,.heic,.zip"
        self.fields["files"].help_text = gettext(
            "JPEG, PNG, WebP or HEIC, or a .zip of them: at most %(images)s images and %(mb)s MB in all. "
            "Files that are not photos are skipped and listed."
        ) % {"images": settings.AUDIT_MAX_IMAGES, "mb": settings.AUDIT_MAX_BYTES // (1024 * 1024)}
        self.gallery_fields = []
        if not teacher:
            del self.fields["source"]
            return
        gallery = GalleryImage.objects.filter(classroom=assignment.classroom, label_set=assignment.label_set)
        for i, label in enumerate(assignment.label_set.labels):
            have = gallery.filter(label=label).count()
            name = f"count_{i}"
            self.fields[name] = forms.IntegerField(
                min_value=0,
                max_value=have,
                required=False,
                initial=0,
                label=label,
                help_text=gettext("%(n)s in the gallery") % {"n": have},
            )
            self.gallery_fields.append((self[name], label))

    def gallery_counts(self) -> dict[str, int]:
        return {label: self.cleaned_data.get(field.name) or 0 for field, label in self.gallery_fields}

    def clean(self):
        data = super().clean()
        if data.get("source", "upload") == "upload" and not data.get("files"):
            self.add_error("files", gettext("Choose some photos, or one zip file of photos."))
        if data.get("source") == "gallery" and not any(self.gallery_counts().values()):
            self.add_error(None, gettext("Choose how many images of each group the collection should have."))
        return data


class AuditSettingsForm(forms.Form):
    enabled = forms.BooleanField(required=False, label=_("Students can audit collections of their own photos"))
