"""Admin screens of outgoing webhooks: endpoints (which events, Slack-compatible or not), the events recorded,
and the deliveries with each attempt, replayed with an action."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from ..models import Delivery, DeliveryAttempt, Endpoint, EventKind, WebhookEvent
from .services import deliveries_replay

MANAGE = "journeys.manage_webhooks"


class AdminRoleOnly:
    """Endpoints hold secrets and decide where the book's data goes: the screens need ``manage_webhooks``, which
    only the admin role has (a manager's journeys permissions do not reach them)."""

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm(MANAGE) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(MANAGE) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(MANAGE) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(MANAGE) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(MANAGE) and super().has_delete_permission(request, obj)


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=EventKind.choices, widget=forms.CheckboxSelectMultiple, help_text=_("The events sent to this URL.")
    )

    class Meta:
        model = Endpoint
        fields = ["name", "url", "events", "slack_compatible", "active", "secret"]


@admin.register(Endpoint)
class EndpointAdmin(AdminRoleOnly, admin.ModelAdmin):
    form = EndpointForm
    list_display = ["name", "url", "event_list", "slack_compatible", "active"]
    list_filter = ["active", "slack_compatible"]
    search_fields = ["name", "url"]

    @admin.display(description=_("events"))
    def event_list(self, endpoint: Endpoint) -> str:
        labels = dict(EventKind.choices)
        return ", ".join(str(labels.get(kind, kind)) for kind in endpoint.events)


class ReadOnly(AdminRoleOnly):
    """Written by the services only."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["kind", "key", "occurred_at"]
    list_filter = ["kind"]
    search_fields = ["key"]


class DeliveryAttemptInline(ReadOnly, admin.TabularInline):
    model = DeliveryAttempt
    fields = ["number", "attempted_at", "status_code", "error", "response_excerpt", "duration_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "replay_of",
    ]
    list_filter = ["status", "endpoint", "event__kind"]
    list_select_related = ["event", "endpoint"]
    inlines = [DeliveryAttemptInline]
    actions = ["replay"]

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm(MANAGE)

    @admin.action(description=_("Replay: send the event again"), permissions=["replay"])
    def replay(self, request, queryset):
        count = deliveries_replay(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(count)d deliveries queued again.") % {"count": count}, messages.SUCCESS)
