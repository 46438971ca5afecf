"""factory_boy factories for every model; tests build exactly the rows they need."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import (
    Account,
    Activity,
    Contact,
    Contract,
    ExchangeRate,
    Source,
    Team,
    UsageEvent,
    UsageMessage,
    User,
)
from accounts.services import contact_engagement_record


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "password")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        from django.contrib.auth.models import Group

        if create and extracted:
            self.groups.set([Group.objects.get(name=role) for role in extracted])
        if create:
            self.save()


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    external_id = factory.Sequence(lambda n: f"CRM-{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    domain = factory.LazyAttribute(lambda a: f"{a.external_id.lower()}.example.com")
    segment = Account.Segment.MID_TOUCH
    industry = "Software"
    region = "EMEA"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")

    @factory.post_generation
    def engagement(self, create, extracted, **kwargs):
        """A ``last_engaged_at`` is kept as a dated engagement record, as the contact services do."""
        if create:
            contact_engagement_record(contact=self)


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    account = factory.SubFactory(AccountFactory)
    external_id = factory.Sequence(lambda n: f"CT-{n:06d}")
    start_date = dt.date(2024, 1, 1)
    end_date = dt.date(2024, 12, 31)
    currency = "USD"
    recurring_tcv = Decimal("12000.00")
    seats = 10


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    currency = "EUR"
    date = dt.date(2024, 1, 1)
    rate = Decimal("1.10")


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source
        django_get_or_create = ("name",)

    name = "Product"


class UsageEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UsageEvent
        skip_postgeneration_save = True

    source = factory.SubFactory(SourceFactory)
    account = factory.SubFactory(AccountFactory)
    user_id = factory.Sequence(lambda n: f"u{n}")
    event = "report_viewed"
    occurred_at = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    message_id = factory.Sequence(lambda n: f"msg-{n}")

    @factory.post_generation
    def remembered(obj, create, extracted, **kwargs):
        """As ingestion does, the ledger of stored messageIds names the event (a re-send is a duplicate)."""
        if create:
            UsageMessage.objects.create(
                source_id=obj.source_id,
                message_id=obj.message_id,
                event_id=obj.pk,
                occurred_at=obj.occurred_at,
                received_at=obj.received_at,
            )


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    account = factory.SubFactory(AccountFactory)
    kind = Activity.Kind.CALL
    occurred_at = factory.LazyFunction(timezone.now)
    subject = "Check-in call"


# Journeys (models named as "app.Model": the accounts factories above stay free of journeys imports) ----------


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "journeys.Stage"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Stage {n}")
    order = factory.Sequence(lambda n: 100 + n)


class StageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "journeys.StageChange"

    account = factory.SubFactory(AccountFactory)
    to_stage = factory.SubFactory(StageFactory)
    changed_at = factory.LazyFunction(timezone.now)
    reason = "Moved in a test"


class PlaybookConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "journeys.PlaybookCondition"

    trigger = "health_red"


class PlaybookFactory(factory.django.DjangoModelFactory):
    """An active playbook of one condition: ``trigger`` with its ``threshold``, ``days`` or ``trigger_stage``."""

    class Meta:
        model = "journeys.Playbook"
        skip_postgeneration_save = True

    class Params:
        trigger = "health_red"
        threshold = None
        days = None
        trigger_stage = None

    name = factory.Sequence(lambda n: f"Playbook {n}")
    active = True
    cooldown_days = 0
    condition = factory.RelatedFactory(
        PlaybookConditionFactory,
        factory_related_name="playbook",
        trigger=factory.SelfAttribute("..trigger"),
        threshold=factory.SelfAttribute("..threshold"),
        days=factory.SelfAttribute("..days"),
        stage=factory.SelfAttribute("..trigger_stage"),
    )


class PlaybookStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "journeys.PlaybookStep"

    playbook = factory.SubFactory(PlaybookFactory)
    order = factory.Sequence(lambda n: n + 1)
    title = "Call {account}"
    due_in_days = 3


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "journeys.Task"

    account = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    owner = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: timezone.now().date())


class SuccessPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "journeys.SuccessPlan"

    account = factory.SubFactory(AccountFactory)


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "journeys.SurveyResponse"

    account = factory.SubFactory(AccountFactory)
    kind = "nps"
    score = 9
    respondent = factory.Sequence(lambda n: f"email:respondent{n}@example.com")
    responded_at = factory.LazyFunction(timezone.now)
    source = "api"
