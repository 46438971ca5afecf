"""Admin screens of the journeys app: stages and milestones, playbooks with their task templates, the survey and
digest settings, pools; the records (stage changes, firings, answers, digest runs) are read-only here because
they are written by the services only."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import (
    CheckIn,
    DigestRun,
    JourneySettings,
    Outcome,
    Playbook,
    PlaybookCondition,
    PlaybookFiring,
    PlaybookStep,
    PoolMember,
    Stage,
    StageChange,
    StageMilestone,
    SuccessPlan,
    SurveyResponse,
    Task,
    TaskComment,
)
from .models.playbooks import DAYS_TRIGGERS, STAGE_TRIGGERS, THRESHOLD_TRIGGERS
from .webhooks import admin as webhooks_admin  # noqa: F401 (registers the outgoing webhooks' screens)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record written by the services: listed and shown, never added or edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StageMilestoneInline(admin.TabularInline):
    model = StageMilestone
    extra = 0


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["order", "name", "description"]
    list_display_links = ["name"]
    inlines = [StageMilestoneInline]


@admin.register(JourneySettings)
class JourneySettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "nps_window_days", "check_in_interval_months", "digest_hour", "adoption_stage"]

    def has_add_permission(self, request):
        return not JourneySettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PoolMember)
class PoolMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "segment"]
    list_filter = ["segment"]
    autocomplete_fields = ["user"]


class PlaybookConditionForm(forms.ModelForm):
    class Meta:
        model = PlaybookCondition
        fields = ["trigger", "threshold", "days", "stage"]

    def clean(self):
        data = super().clean()
        trigger = data.get("trigger")
        if trigger in THRESHOLD_TRIGGERS and (data.get("threshold") is None or data["threshold"] < 0):
            self.add_error("threshold", _("This trigger needs a threshold of 0 or more."))
        if trigger in DAYS_TRIGGERS and not data.get("days"):
            self.add_error("days", _("This trigger needs a number of days."))
        if trigger in STAGE_TRIGGERS and not data.get("stage"):
            self.add_error("stage", _("This trigger needs a stage."))
        return data


class PlaybookConditionInline(admin.TabularInline):
    """All the conditions must hold on the same night (AND)."""

    model = PlaybookCondition
    form = PlaybookConditionForm
    extra = 0
    min_num = 1


class PlaybookStepInline(admin.TabularInline):
    model = PlaybookStep
    extra = 0
    min_num = 1
    fields = ["order", "action", "title", "description", "due_in_days", "assignee", "priority"]


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "conditions_shown", "segment", "min_acv", "stage", "dry_run"]
    list_filter = ["active", "conditions__trigger", "segment"]
    search_fields = ["name"]
    inlines = [PlaybookConditionInline, PlaybookStepInline]
    fieldsets = [
        (None, {"fields": ["name", "description", "active", "cooldown_days"]}),
        (_("Filter"), {"fields": ["segment", "min_acv", "stage"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("conditions")

    @admin.display(description=_("conditions"))
    def conditions_shown(self, obj):
        return _(" and ").join(str(condition.get_trigger_display()) for condition in obj.conditions.all())

    @admin.display(description=_("dry run"))
    def dry_run(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("journeys:playbook_dry_run", args=[obj.pk]), _("Dry run"))


@admin.register(PlaybookStep)
class PlaybookStepAdmin(admin.ModelAdmin):
    """Steps (tasks and e-mails), also editable inside their playbook."""

    list_display = ["playbook", "order", "action", "title", "due_in_days", "assignee", "priority"]
    list_filter = ["playbook", "action", "assignee"]


@admin.register(PlaybookFiring)
class PlaybookFiringAdmin(ReadOnlyAdmin):
    list_display = ["playbook", "account", "occurrence_key", "as_of", "fired_at"]
    list_filter = ["playbook"]
    list_select_related = ["playbook", "account"]
    date_hierarchy = "as_of"


class TaskCommentInline(admin.TabularInline):
    model = TaskComment
    extra = 0


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "account", "owner", "pool_segment", "due_date", "priority", "status", "source", "playbook"]
    list_filter = ["status", "priority", "source", "pool_segment", "playbook"]
    list_select_related = ["account", "owner", "playbook"]
    search_fields = ["title", "account__name"]
    autocomplete_fields = ["account", "owner"]
    readonly_fields = ["playbook", "step", "firing", "dedupe_key", "completed_at", "completed_by", "created_by"]
    inlines = [TaskCommentInline]


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdmin):
    list_display = ["account", "from_stage", "to_stage", "changed_at", "changed_by", "source", "reason"]
    list_filter = ["to_stage", "source"]
    list_select_related = ["account", "from_stage", "to_stage", "changed_by"]
    date_hierarchy = "changed_at"


class OutcomeInline(admin.TabularInline):
    model = Outcome
    extra = 0


class CheckInInline(admin.TabularInline):
    model = CheckIn
    extra = 0
    readonly_fields = ["asked_on", "task", "achieved", "notes", "answered_at", "answered_by"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SuccessPlan)
class SuccessPlanAdmin(admin.ModelAdmin):
    list_display = ["account", "created_at"]
    search_fields = ["account__name"]
    autocomplete_fields = ["account"]
    inlines = [OutcomeInline, CheckInInline]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    list_display = ["account", "kind", "score", "respondent", "responded_at", "source"]
    list_filter = ["kind", "source"]
    list_select_related = ["account"]
    search_fields = ["account__name", "respondent", "comment"]
    date_hierarchy = "responded_at"


@admin.register(DigestRun)
class DigestRunAdmin(ReadOnlyAdmin):
    list_display = ["as_of", "started_at", "finished_at", "sent"]
