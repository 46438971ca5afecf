"""Forms of the pages' POST actions."""

import datetime as dt
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Activity, Contact, User
from accounts.roles import Role

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
    """Log (or change) a touch on the account's timeline, its time in the user's own time zone."""

    LOGGABLE = (Activity.Kind.CALL, Activity.Kind.MEETING, Activity.Kind.EMAIL, Activity.Kind.QBR, Activity.Kind.NOTE)
    KINDS = [(kind.value, kind.label) for kind in LOGGABLE]

    kind = forms.ChoiceField(label=_("Kind"), choices=KINDS)
    occurred_at = forms.DateTimeField(
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    contact = forms.ModelChoiceField(
        label=_("With"), queryset=Contact.objects.none(), required=False, empty_label=_("Nobody in particular")
    )

    def __init__(self, *args, account_id: int, **kwargs):
        kwargs.setdefault("initial", {"occurred_at": timezone.localtime().replace(second=0, microsecond=0)})
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(account_id=account_id, active=True).order_by("name")
        zone = timezone.get_current_timezone_name()
        self.fields["occurred_at"].help_text = _("In your time zone, %(zone)s") % {"zone": zone}

    def clean_occurred_at(self) -> dt.datetime:
        value = self.cleaned_data["occurred_at"]
        if value > timezone.now() + dt.timedelta(minutes=5):
            raise forms.ValidationError(_("An activity cannot be logged in the future."))
        return value


class ContactForm(forms.ModelForm):
    """A person at the account and their roles (executive sponsor, champion...); unticking "active" deactivates
    them (kept on the timeline, out of the sponsor measure)."""

    class Meta:
        model = Contact
        fields = [
            "name",
            "email",
            "title",
            "is_executive_sponsor",
            "is_champion",
            "is_decision_maker",
            "is_billing",
            "is_end_user",
            "active",
        ]

    def clean(self):
        data = super().clean()
        if not (data.get("name") or data.get("email")):
            raise forms.ValidationError(_("Give the contact a name or an e-mail address."))
        return data


def _active_with(*roles: str):
    return User.objects.filter(is_active=True, groups__name__in=roles).distinct().order_by("first_name", "last_name")


class AssignForm(forms.Form):
    """A new CSM and/or AE (empty: keep the current one)."""

    owner = forms.ModelChoiceField(
        label=_("CSM"), queryset=User.objects.none(), required=False, empty_label=_("Keep the CSM")
    )
    account_executive = forms.ModelChoiceField(
        label=_("AE"), queryset=User.objects.none(), required=False, empty_label=_("Keep the AE")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _active_with(Role.CSM, Role.MANAGER)
        self.fields["account_executive"].queryset = _active_with(Role.ACCOUNT_EXECUTIVE)

    def clean(self):
        data = super().clean()
        if data.get("owner") is None and data.get("account_executive") is None:
            raise forms.ValidationError(_("Choose a CSM or an AE to assign."))
        return data


class BulkAssignForm(AssignForm):
    """``AssignForm`` for the accounts ticked on the portfolio."""

    accounts = forms.ModelMultipleChoiceField(
        queryset=Account.objects.all(),
        widget=forms.MultipleHiddenInput,
        error_messages={"required": _("Tick the accounts to reassign first.")},
    )


class PreferencesForm(forms.ModelForm):
    """The user's own time zone (times are entered and shown in it) and language (blank: the browser's)."""

    time_zone = forms.ChoiceField(label=_("Time zone"))
    language = forms.ChoiceField(label=_("Language"), required=False)

    class Meta:
        model = User
        fields = ["time_zone", "language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(zone, zone) for zone in sorted(available_timezones())]
        self.fields["language"].choices = [("", _("As the browser says")), *settings.LANGUAGES]


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
