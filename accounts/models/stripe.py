"""What the Stripe integration keeps (``accounts/integrations/stripe/``): the events it processed, which account
each Stripe customer is, and which contract each subscription period became (with the state applied to it)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .core import Account, Contract


class StripeEvent(models.Model):
    """A Stripe event, recorded in the transaction that processes it: an event id is processed exactly once."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        SKIPPED = "skipped", _("Skipped")
        REFUSED = "refused", _("Refused")

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    created = models.DateTimeField(help_text=_("When Stripe created the event."))
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField(blank=True, help_text=_("Why it was skipped or refused."))

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(event_id=""), name="stripe_event_id_not_blank")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class StripeCustomer(models.Model):
    """A Stripe customer and its account: the account whose CRM id its metadata names, else a prospect created
    for it and flagged for review."""

    customer_id = models.CharField(max_length=255, unique=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="stripe_customers")
    needs_review = models.BooleanField(
        default=False, help_text=_("The account was created from Stripe: check it, then clear the flag.")
    )
    review_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=~Q(customer_id=""), name="stripe_customer_id_not_blank")]

    def __str__(self) -> str:
        return self.customer_id


class StripeSubscriptionPeriod(models.Model):
    """One billing period of a subscription and the contract it became. ``state_at`` and ``state_rank`` order the
    states applied to it: an older state (an event delivered late) never overwrites a newer one."""

    subscription_id = models.CharField(max_length=255)
    period_start = models.DateField()
    contract = models.OneToOneField(Contract, on_delete=models.CASCADE, related_name="stripe_period")
    state_at = models.DateTimeField(help_text=_("When Stripe created the event (or object state) last applied."))
    state_rank = models.PositiveSmallIntegerField(
        default=1, help_text=_("Breaks a tie between states of the same second: created 0, updated 1, ended 2.")
    )

    class Meta:
        ordering = ["subscription_id", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["subscription_id", "period_start"], name="stripe_period_once"),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} from {self.period_start:%Y-%m-%d}"
