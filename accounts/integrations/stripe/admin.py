"""The admin of the Stripe integration: customers (filter "needs review") and the events processed."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from ...models import StripeCustomer, StripeEvent
from .services import stripe_customers_reviewed


@admin.register(StripeCustomer)
class StripeCustomerAdmin(admin.ModelAdmin):
    list_display = ("customer_id", "account", "needs_review", "review_reason", "created_at")
    list_filter = ("needs_review",)
    list_select_related = ("account",)
    search_fields = ("customer_id", "account__name", "account__external_id")
    raw_id_fields = ("account",)
    readonly_fields = ("customer_id", "review_reason", "created_at")
    actions = ["mark_reviewed"]

    @admin.action(description=_("Mark as reviewed"), permissions=["change"])
    def mark_reviewed(self, request, queryset):
        count = stripe_customers_reviewed(customer_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(count)d customers marked as reviewed.") % {"count": count}, messages.SUCCESS)


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("event_id", "type", "created", "outcome", "reason", "received_at")
    list_filter = ("outcome", "type")
    search_fields = ("event_id",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
