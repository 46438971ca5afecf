"""Forms of the pages' POST actions."""

import datetime as dt

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Activity, Contact

from .models import ForecastCategory, SavedView

# The pages look back a year and more from the evaluation date: the calendar's first and last years leave no room.
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(9000, 12, 31)


def evaluation_date_field() -> forms.DateField:
    return forms.DateField(
        label=_("As of (night)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[MinValueValidator(EARLIEST), MaxValueValidator(LATEST)],
        help_text=_("The nightly snapshot on or before this date; empty: the latest night."),
    )


class EvaluationDateForm(forms.Form):
    """``?as_of=``: the date the page's figures are for (invalid input: the latest night)."""

    as_of = evaluation_date_field()


class SavedViewForm(forms.Form):
    pages = SavedView.Page.values

    page = forms.ChoiceField(choices=SavedView.Page.choices, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name this view"), max_length=100)
    querystring = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)


class ActivityForm(forms.Form):
    """Log a touch on the account's timeline."""

    KINDS = [
        (kind.value, kind.label)
        for kind in (Activity.Kind.CALL, Activity.Kind.MEETING, Activity.Kind.EMAIL, Activity.Kind.NOTE)
    ]

    kind = forms.ChoiceField(label=_("Kind"), choices=KINDS)
    occurred_at = forms.DateTimeField(
        label=_("When (UTC)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    contact = forms.ModelChoiceField(
        label=_("With"), queryset=Contact.objects.none(), required=False, empty_label=_("Nobody in particular")
    )

    def __init__(self, *args, account_id: int, **kwargs):
        kwargs.setdefault("initial", {"occurred_at": timezone.now().replace(second=0, microsecond=0)})
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(account_id=account_id, active=True).order_by("name")

    def clean_occurred_at(self) -> dt.datetime:
        value = self.cleaned_data["occurred_at"]
        if value > timezone.now() + dt.timedelta(minutes=5):
            raise forms.ValidationError(_("An activity cannot be logged in the future."))
        return value


class ForecastForm(forms.Form):
    """A renewal forecast: category, amount (the expected renewal value unless the AE knows better), next step."""

    category = forms.ChoiceField(
        label=_("Forecast category"), choices=ForecastCategory.choices, widget=forms.RadioSelect
    )
    amount = forms.DecimalField(
        label=_("Amount"),
        required=False,
        max_digits=16,
        decimal_places=2,
        min_value=0,
        help_text=_("Expected renewed ARR in the reporting currency; empty: none given."),
    )
    next_step = forms.CharField(label=_("Next step"), max_length=500, required=False)
    note = forms.CharField(label=_("Why"), max_length=500, required=False)
