"""Forms of the journeys pages: they parse input; the services decide."""

import datetime as dt

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, User

from .models import CheckIn, Outcome, Priority, Stage

DATE = forms.DateInput(attrs={"type": "date"})


class AsOfForm(forms.Form):
    # Pages look back a year or more and a day ahead from it: the calendar's first and last years leave no room.
    as_of = forms.DateField(
        label=_("As of"),
        required=False,
        widget=DATE,
        validators=[MinValueValidator(dt.date(1900, 1, 1)), MaxValueValidator(dt.date(9000, 12, 31))],
    )
    segment = forms.ChoiceField(label=_("Segment"), required=False, choices=[("", _("All segments"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", _("All segments")), *Account.Segment.choices]


class SnoozeForm(forms.Form):
    until = forms.DateField(label=_("Snooze until"), widget=DATE)


class TaskEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_date = forms.DateField(label=_("Due"), widget=DATE)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none())

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class NextCheckInForm(forms.Form):
    next_check_in = forms.DateField(label=_("Next check-in"), widget=DATE)


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_date = forms.DateField(label=_("Due"), widget=DATE)
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StageChangeForm(forms.Form):
    stage = forms.ModelChoiceField(label=_("Move to stage"), queryset=Stage.objects.order_by("order"))
    reason = forms.CharField(label=_("Why"), max_length=300)


class PlanSummaryForm(forms.Form):
    summary = forms.CharField(
        label=_("What the customer expects"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class OutcomeForm(forms.Form):
    description = forms.CharField(label=_("Expected outcome"), max_length=300)
    target_date = forms.DateField(label=_("Target date"), widget=DATE)
    owner = forms.ModelChoiceField(
        label=_("Owner"), required=False, queryset=User.objects.filter(is_active=True), empty_label=_("Me")
    )


class OutcomeStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Outcome.Status.choices)


class CheckInForm(forms.Form):
    achieved = forms.ChoiceField(
        label=_("Has the customer achieved what they expected?"),
        choices=CheckIn.Achieved.choices,
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    check_in = forms.IntegerField(required=False, widget=forms.HiddenInput)


class SurveyUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: account (CRM id), kind (nps, csat, ces), score, responded_at; optional: contact_email, "
            "comment, external_id."
        ),
    )

    MAX_BYTES = 5 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file may have at most 5 MB."))
        return upload


def parse_as_of(data, default: dt.date) -> tuple[AsOfForm, dt.date, str]:
    """The page's evaluation date and segment filter from the query string (invalid input: the defaults)."""
    form = AsOfForm(data or None)
    if form.is_valid():
        return form, form.cleaned_data["as_of"] or default, form.cleaned_data["segment"]
    return form, default, ""
