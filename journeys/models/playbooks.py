"""Playbooks (conditions, a filter and steps), their firings, and the tasks (calls to action)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import MONEY, Account

from .journey import Stage


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")


class Trigger(models.TextChoices):
    """What a playbook condition looks for; see ``Playbook`` for what one occurrence of each is."""

    HEALTH_RED = "health_red", _("Health turned red")
    HEALTH_DROP = "health_drop", _("Health fell by at least N points in 30 days")
    USAGE_TREND_BELOW = "usage_trend_below", _("Usage trend below x")
    LICENSE_UTILIZATION_BELOW = "license_utilization_below", _("License utilization below x")
    RENEWAL_WITHIN = "renewal_within", _("Renewal within N days")
    DETRACTOR = "detractor", _("Detractor NPS answer")
    NO_EXECUTIVE_SPONSOR = "no_executive_sponsor", _("No engaged executive sponsor in N days")
    STAGE_ENTERED = "stage_entered", _("Stage entered")
    NO_TOUCH = "no_touch", _("No CSM touch in N days")
    STAGE_LONGER_THAN = "stage_longer_than", _("In a stage for more than N days")


# The triggers that need a threshold, a number of days, a stage (Trigger values).
THRESHOLD_TRIGGERS = ("health_drop", "usage_trend_below", "license_utilization_below")
DAYS_TRIGGERS = ("renewal_within", "no_executive_sponsor", "no_touch", "stage_longer_than")
STAGE_TRIGGERS = ("stage_entered", "stage_longer_than")


class Playbook(models.Model):
    """When all the conditions hold for an account that passes the filter, the steps run, once per occurrence.

    Occurrences (the dedupe key of each firing; with several conditions, the keys of all, joined):

    - health turned red: one per red episode (consecutive red snapshots; an N/A night does not end it), keyed by
      the episode's first red day;
    - health fell by ``threshold`` points in 30 days, usage trend or license utilization below ``threshold``: the
      night the condition starts to hold (it did not hold on the day before), keyed by that day;
    - renewal within ``days``: one per contract end date;
    - detractor NPS answer: one per answer (answers of the last 7 days are looked at; a new answer fires at once);
    - no engaged executive sponsor in ``days``: one per last engagement (or "never");
    - stage entered: one per stage change into the condition's ``stage`` (of the last 7 days; fires at once);
    - no CSM touch in ``days``: one per last touch (or "never");
    - in a stage for more than ``days``: one per stage change into the condition's ``stage``.

    ``cooldown_days``: an account does not fire again within that many days of its last firing of the playbook.
    New playbooks start inactive: look at the dry run, then activate.
    """

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=False)
    segment = models.CharField(
        max_length=20, choices=Account.Segment.choices, blank=True, help_text=_("Filter: empty means every segment.")
    )
    min_acv = models.DecimalField(
        _("ACV at least"), **MONEY, null=True, blank=True, help_text=_("Filter, in the reporting currency.")
    )
    stage = models.ForeignKey(
        Stage,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Filter: accounts in this stage on the evaluation date."),
    )
    cooldown_days = models.PositiveIntegerField(
        default=30, help_text=_("An account does not fire again within this many days of its last firing.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="playbook_name_not_blank"),
            models.CheckConstraint(
                condition=Q(min_acv__isnull=True) | Q(min_acv__gte=0), name="playbook_min_acv_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PlaybookCondition(models.Model):
    """One condition of a playbook; a playbook fires when all its conditions hold on the same night (AND)."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="conditions")
    trigger = models.CharField(max_length=40, choices=Trigger.choices)
    threshold = models.FloatField(
        null=True,
        blank=True,
        help_text=_("Points for a health fall; a ratio for usage trend (0.7) or license utilization (0.3)."),
    )
    days = models.PositiveIntegerField(null=True, blank=True, help_text=_("N days, for the triggers that have one."))
    stage = models.ForeignKey(
        Stage,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("For stage entered and in a stage for more than N days."),
    )

    class Meta:
        ordering = ["playbook", "id"]
        verbose_name = _("condition")
        constraints = [
            models.UniqueConstraint(fields=["playbook", "trigger"], name="playbook_condition_trigger_once"),
            models.CheckConstraint(
                condition=~Q(trigger__in=THRESHOLD_TRIGGERS) | Q(threshold__isnull=False, threshold__gte=0),
                name="playbook_condition_threshold_required",
            ),
            models.CheckConstraint(
                condition=~Q(trigger__in=DAYS_TRIGGERS) | Q(days__isnull=False, days__gte=1),
                name="playbook_condition_days_required",
            ),
            models.CheckConstraint(
                condition=~Q(trigger__in=STAGE_TRIGGERS) | Q(stage__isnull=False),
                name="playbook_condition_stage_required",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playbook}: {self.get_trigger_display()}"


class PlaybookStep(models.Model):
    """What a firing does, in order: create a task, or e-mail the assignee. ``{account}`` in the title is
    replaced by the account's name; an e-mail's subject is the title and its body the description."""

    class Action(models.TextChoices):
        TASK = "task", _("Create a task")
        EMAIL = "email", _("E-mail the assignee")

    class Assignee(models.TextChoices):
        OWNER = "owner", _("The account's CSM")
        AE = "ae", _("The account executive")
        MANAGER = "manager", _("The CSM's manager")

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(default=1)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.TASK)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    due_in_days = models.PositiveSmallIntegerField(default=3, help_text=_("Tasks: due this many days after firing."))
    assignee = models.CharField(max_length=20, choices=Assignee.choices, default=Assignee.OWNER)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)

    class Meta:
        ordering = ["playbook", "order", "id"]
        verbose_name = _("step")
        constraints = [
            models.UniqueConstraint(fields=["playbook", "order"], name="playbook_step_order_unique"),
            models.CheckConstraint(condition=~Q(title=""), name="playbook_step_title_not_blank"),
            models.CheckConstraint(condition=Q(priority__in=[1, 2, 3]), name="playbook_step_priority_valid"),
            models.CheckConstraint(condition=Q(action__in=["task", "email"]), name="playbook_step_action_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.playbook}: {self.order}. {self.title}"


class PlaybookFiring(models.Model):
    """One trigger occurrence for one account: unique, so that a re-run never fires (nor creates tasks) twice."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="firings")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="playbook_firings")
    occurrence_key = models.CharField(max_length=200)
    as_of = models.DateField(help_text=_("The evaluation date it fired on."))
    fired_at = models.DateTimeField(default=timezone.now)
    detail = models.JSONField(
        default=dict, blank=True, help_text=_("Why it fired: each condition's inputs, by trigger.")
    )

    class Meta:
        ordering = ["-as_of", "playbook", "account"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "account", "occurrence_key"], name="playbook_firing_once")
        ]
        indexes = [models.Index(fields=["playbook", "as_of"]), models.Index(fields=["account", "playbook", "as_of"])]

    def __str__(self) -> str:
        return f"{self.playbook} for {self.account_id} ({self.occurrence_key})"


class Task(models.Model):
    """A call to action. No owner: it waits in the pooled queue of ``pool_segment`` until a CSM takes it.
    Snoozed = open with ``snoozed_until`` after today."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        PLAYBOOK = "playbook", _("Playbook")
        CHECK_IN = "check_in", _("Success plan check-in")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    pool_segment = models.CharField(
        max_length=20, choices=Account.Segment.choices, blank=True, help_text=_("The pooled queue it came from.")
    )
    due_date = models.DateField()
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    playbook = models.ForeignKey(Playbook, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    step = models.ForeignKey(PlaybookStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    firing = models.ForeignKey(PlaybookFiring, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    dedupe_key = models.CharField(
        max_length=255, null=True, blank=True, unique=True, help_text=_("Generated tasks: one per occurrence.")
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["due_date", "-priority", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="task_title_not_blank"),
            models.CheckConstraint(condition=Q(priority__in=[1, 2, 3]), name="task_priority_valid"),
            models.CheckConstraint(
                condition=Q(owner__isnull=False) | ~Q(pool_segment=""), name="task_has_owner_or_pool"
            ),
            models.CheckConstraint(
                condition=Q(status="done", completed_at__isnull=False) | Q(status="open", completed_at__isnull=True),
                name="task_done_iff_completed",
            ),
            models.CheckConstraint(
                condition=Q(source="playbook", playbook__isnull=False) | (~Q(source="playbook") & Q(playbook=None)),
                name="task_playbook_iff_source_playbook",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status", "due_date"]),
            models.Index(fields=["pool_segment", "status"]),
            models.Index(fields=["account", "status"]),
        ]

    def __str__(self) -> str:
        return self.title

    def is_snoozed(self, today) -> bool:
        return self.status == self.Status.OPEN and self.snoozed_until is not None and self.snoozed_until > today


class TaskComment(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["task", "created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="task_comment_not_blank")]

    def __str__(self) -> str:
        return f"Comment on {self.task_id} by {self.author_id}"
