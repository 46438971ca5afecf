"""Forms of the import pages: they parse input; the work is in ``services``."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import ImportKind
from .kinds import kind_spec

MAX_UPLOAD = 50 * 1024 * 1024


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices)
    file = forms.FileField(help_text=_("CSV (UTF-8) or XLSX; the first row names the columns."))

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > MAX_UPLOAD:
            raise forms.ValidationError(_("At most 50 MB per file."))
        return file


class MappingForm(forms.Form):
    """One select per source column: the field it fills, or ignored."""

    save_as = forms.CharField(required=False, max_length=100, label=_("Save this mapping as"))

    def __init__(self, *args, kind: str, header: list[str], initial_columns: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.header = header
        choices = [("", _("— ignore —"))] + [(name, name) for name in kind_spec(kind).fields]
        for index, column in enumerate(header):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=column or f"({index + 1})",
                choices=choices,
                required=False,
                initial=initial_columns.get(column, ""),
            )

    def columns(self) -> dict[str, str]:
        return {column: self.cleaned_data.get(f"column_{index}", "") for index, column in enumerate(self.header)}

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.header))]
