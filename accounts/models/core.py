"""Customers, their people, their contracts and the touches on their timeline (docs/concepts/).

Models hold fields, constraints and choices; the formulas live in ``selectors.py`` and the writes in
``services.py``. The database guards what it can: check constraints, unique keys and foreign keys.
"""

import datetime as dt
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from ..managers import AccountQuerySet
from ..roles import Role


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    manager = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def workspace_time_zone() -> str:
    """A new user's time zone: the workspace's (``TIME_ZONE``)."""
    return settings.TIME_ZONE


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("“%(value)s” is not a time zone name such as Europe/Paris."), params={"value": value})


class User(AbstractUser):
    """A person who works in the platform: CSM, manager, AE, admin or executive (by group)."""

    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    time_zone = models.CharField(
        _("time zone"),
        max_length=63,
        default=workspace_time_zone,
        validators=[validate_time_zone],
        help_text=_("Times are entered and shown in this zone (an IANA name such as America/New_York)."),
    )
    # Blank: not chosen, so the browser's Accept-Language, then the workspace's WORKSPACE_LANGUAGE, decide.
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("The language of the pages; blank follows the browser, then the workspace."),
    )

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def has_role(self, role: Role) -> bool:
        return self.groups.filter(name=role.value).exists()


class Currency(models.TextChoices):
    USD = "USD", "USD"
    EUR = "EUR", "EUR"
    GBP = "GBP", "GBP"
    CAD = "CAD", "CAD"
    AUD = "AUD", "AUD"
    JPY = "JPY", "JPY"
    KRW = "KRW", "KRW"


MONEY = {"max_digits": 16, "decimal_places": 2}


class Account(models.Model):
    class Segment(models.TextChoices):
        HIGH_TOUCH = "high_touch", _("High-touch")
        MID_TOUCH = "mid_touch", _("Mid-touch")
        TECH_TOUCH = "tech_touch", _("Tech-touch")

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        CHURNED = "churned", _("Churned")

    external_id = models.CharField(_("CRM id"), max_length=100, unique=True)
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(
        User, verbose_name=_("CSM"), null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_accounts"
    )
    account_executive = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="ae_accounts"
    )
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.MID_TOUCH)
    industry = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    churned_on = models.DateField(null=True, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(churned_on__isnull=True) | Q(status="churned"),
                name="account_churned_on_only_when_churned",
            ),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="account_not_own_parent"),
            models.CheckConstraint(condition=~Q(external_id=""), name="account_external_id_not_blank"),
        ]
        indexes = [models.Index(fields=["owner", "status"]), models.Index(fields=["segment"])]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(
        _("CRM id"), max_length=100, blank=True, help_text=_("The contact's id in the CRM, unique when set.")
    )
    user_id = models.CharField(
        _("product user id"), max_length=200, blank=True, help_text=_("The userId the product sends with usage.")
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    title = models.CharField(max_length=200, blank=True)
    is_champion = models.BooleanField(_("champion"), default=False)
    is_executive_sponsor = models.BooleanField(_("executive sponsor"), default=False)
    is_decision_maker = models.BooleanField(_("decision maker"), default=False)
    is_billing = models.BooleanField(_("billing"), default=False)
    is_end_user = models.BooleanField(_("end user"), default=False)
    active = models.BooleanField(default=True)
    last_engaged_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("The latest engagement on record; setting it records a dated engagement (health reads those)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "name"]
        constraints = [
            models.UniqueConstraint(fields=["user_id"], condition=~Q(user_id=""), name="contact_user_id_unique"),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="contact_external_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.user_id or f"Contact {self.pk}"

    @property
    def roles(self) -> list[str]:
        flags = [
            (self.is_champion, _("champion")),
            (self.is_executive_sponsor, _("executive sponsor")),
            (self.is_decision_maker, _("decision maker")),
            (self.is_billing, _("billing")),
            (self.is_end_user, _("end user")),
        ]
        return [str(label) for flag, label in flags if flag]


class ChangedAccount(models.Model):
    """An account whose data (events, contracts, contacts, touches, survey answers) changed since its figures were
    last refreshed: the set the intra-day refresh drains. ``changed_at`` is the first change not refreshed yet."""

    account = models.OneToOneField(Account, primary_key=True, on_delete=models.CASCADE, related_name="+")
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.account_id} changed at {self.changed_at:%Y-%m-%d %H:%M:%S}"


class ContactEngagement(models.Model):
    """A dated engagement with a contact outside the timeline's touches (a reply, an event attended, a date
    entered by hand). Never overwritten: a night for d reads the records dated on or before d."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="engagements")
    engaged_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-engaged_at"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "engaged_at"], name="contact_engagement_once_per_moment")
        ]

    def __str__(self) -> str:
        return f"{self.contact} engaged {self.engaged_at:%Y-%m-%d %H:%M}"


class Contract(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", _("New")
        RENEWAL = "renewal", _("Renewal")
        EXPANSION = "expansion", _("Expansion")
        CONTRACTION = "contraction", _("Contraction")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        CANCELLED = "cancelled", _("Cancelled")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="contracts")
    external_id = models.CharField(max_length=100, unique=True)
    start_date = models.DateField()
    end_date = models.DateField(help_text=_("Inclusive: the last day the contract covers."))
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    recurring_tcv = models.DecimalField(
        _("recurring value (whole term)"), **MONEY, help_text=_("Recurring value over the whole term.")
    )
    one_time_fees = models.DecimalField(**MONEY, default=0, help_text=_("Never part of ACV or ARR."))
    seats = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NEW)
    renews = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewals")
    auto_renew = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="contract_end_not_before_start"),
            # At least 28 days, end inclusive (docs/concepts/contract-value.md): a one-day contract would annualise
            # 365 times.
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date") + dt.timedelta(days=27)),
                name="contract_term_at_least_28_days",
                violation_error_message=_("A contract must cover at least 28 days (the end date is inclusive)."),
            ),
            # A term needs a day after its end (term length, renewal dates): 9999-12-31 has none.
            models.CheckConstraint(
                condition=Q(end_date__lt=dt.date.max),
                name="contract_end_before_date_max",
                violation_error_message=_("The end date must be before 9999-12-31: enter the term's last day."),
            ),
            models.CheckConstraint(condition=Q(recurring_tcv__gte=0), name="contract_recurring_tcv_non_negative"),
            models.CheckConstraint(condition=Q(one_time_fees__gte=0), name="contract_one_time_fees_non_negative"),
            models.CheckConstraint(
                condition=Q(seats__isnull=True) | Q(seats__gte=0), name="contract_seats_non_negative"
            ),
            models.CheckConstraint(condition=~Q(renews=F("id")), name="contract_not_renewing_itself"),
            models.CheckConstraint(condition=~Q(external_id=""), name="contract_external_id_not_blank"),
        ]
        indexes = [models.Index(fields=["account", "start_date", "end_date"]), models.Index(fields=["end_date"])]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.start_date:%Y-%m-%d}..{self.end_date:%Y-%m-%d})"

    def get_additional_data(self) -> dict:
        """Stored with each audit-trail entry of the contract, so that its account's timeline finds it."""
        return {"account_id": self.account_id}


class ExchangeRate(models.Model):
    """``rate`` reporting-currency units buy one unit of ``currency``, from ``date`` until the next rate."""

    currency = models.CharField(max_length=3, choices=Currency.choices)
    date = models.DateField()
    rate = models.DecimalField(max_digits=18, decimal_places=8)

    class Meta:
        ordering = ["currency", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "date"], name="exchange_rate_one_per_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} on {self.date:%Y-%m-%d}"


class Activity(models.Model):
    """A touch on the account's timeline."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        EMAIL = "email", _("Email")
        NOTE = "note", _("Note")
        QBR = "qbr", _("QBR")
        STAGE_CHANGE = "stage_change", _("Stage change")
        TASK_DONE = "task_done", _("Task done")

    # The kinds that count as a CSM touch for the engagement measure.
    TOUCH_KINDS = (Kind.CALL, Kind.MEETING, Kind.EMAIL, Kind.QBR)

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    author = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    occurred_at = models.DateTimeField()
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["account", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"
