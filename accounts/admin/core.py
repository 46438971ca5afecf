"""The Django admin for every model of the accounts app.

Role scoping here is model-level only: the role groups get their permissions from ``roles.ROLE_PERMISSIONS``
(synced after every migrate). Figures shown here come from ``selectors.py``, computed set-based for a page.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from ..models import (
    Account,
    Activity,
    Contact,
    Contract,
    ExchangeRate,
    Team,
    User,
)
from ..selectors import AcvBook, account_acv_book, contract_acv, missing_rate_reason
from ..services import accounts_mark_changed, contact_engagement_record

admin.site.site_header = _("CSM Platform")
admin.site.site_title = _("CSM Platform")
admin.site.index_title = _("Administration")

# The attribute the Account changelist sets on each account of the page: the page's ACV book.
ACV_TODAY_ATTR = "_acv_today"


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _contract_acv_display(contract: Contract) -> str | None:
    """The contract's ACV in its own currency, from the row's own fields (no query)."""
    if contract.recurring_tcv is None or contract.start_date is None or contract.end_date is None:
        return None
    if contract.end_date < contract.start_date:
        return None
    acv = contract_acv(recurring_tcv=contract.recurring_tcv, start_date=contract.start_date, end_date=contract.end_date)
    return _money(acv, contract.currency)


class BlankValueListFilter(admin.AllValuesFieldListFilter):
    """A text field's values, the blank one shown as the admin's empty value ("-"): Django lists it as a link with
    no text, which a screen reader cannot name (axe: link-name)."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if str(choice["display"]) == "" or str(choice["display"]).startswith(" ("):  # " (3)" with facet counts
                choice["display"] = f"{self.empty_value_display}{choice['display']}"
            yield choice


class MarksAccountChanged(admin.ModelAdmin):
    """Saving or deleting a row here (or in an inline) puts its account in the set the intra-day refresh drains."""

    @staticmethod
    def _account_id(obj) -> int | None:
        return obj.pk if isinstance(obj, Account) else obj.account_id

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        accounts_mark_changed(account_ids=[self._account_id(obj)])

    def delete_model(self, request, obj):
        account_ids = {self._account_id(obj)}
        super().delete_model(request, obj)
        self._mark_remaining(account_ids)

    def delete_queryset(self, request, queryset):
        account_ids = {self._account_id(obj) for obj in queryset}
        super().delete_queryset(request, queryset)
        self._mark_remaining(account_ids)

    @staticmethod
    def _mark_remaining(account_ids: set[int]) -> None:
        """Mark the accounts that still exist (deleting an account deletes it from the set too)."""
        accounts_mark_changed(account_ids=Account.objects.filter(pk__in=account_ids).values_list("pk", flat=True))

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        accounts_mark_changed(account_ids=[self._account_id(form.instance)])


# Users, teams and roles ------------------------------------------------------------------------------------


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Role and team"), {"fields": ("groups", "team")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        (_("Personal info"), {"classes": ("wide",), "fields": ("first_name", "last_name", "email")}),
        (_("Role and team"), {"classes": ("wide",), "fields": ("groups", "team", "is_staff")}),
    )
    list_display = ("username", "first_name", "last_name", "email", "roles", "team", "is_staff", "is_active")
    list_filter = ("groups", "team", "is_staff", "is_active", "is_superuser")
    list_select_related = ("team",)
    search_fields = ("username", "first_name", "last_name", "email")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        # Only a superuser makes another superuser: an Admin's ``auth.*`` grant must not escalate to every app.
        if not request.user.is_superuser:
            readonly += ("is_superuser",)
        return readonly

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        # Sorted in Python so the prefetched groups are used (``order_by`` would query again).
        return ", ".join(sorted(group.name for group in obj.groups.all()))


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "member_count")
    list_select_related = ("manager",)
    search_fields = ("name", "manager__username", "manager__first_name", "manager__last_name")
    autocomplete_fields = ("manager",)
    fields = ("name", "manager", "members_list")
    readonly_fields = ("members_list",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj: Team) -> int:
        return obj.member_count

    @admin.display(description=_("members"))
    def members_list(self, obj: Team):
        if obj.pk is None:
            return None
        members = [(reverse("admin:accounts_user_change", args=[user.pk]), str(user)) for user in obj.members.all()]
        if not members:
            return None
        return format_html("<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a></li>', members))


# Accounts, their people and contracts ----------------------------------------------------------------------


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    show_change_link = True
    fields = (
        "name",
        "email",
        "title",
        "user_id",
        "is_champion",
        "is_executive_sponsor",
        "is_decision_maker",
        "is_billing",
        "is_end_user",
        "active",
        "last_engaged_at",
    )


class ContractInline(admin.TabularInline):
    model = Contract
    fk_name = "account"
    extra = 0
    show_change_link = True
    autocomplete_fields = ("renews",)
    fields = (
        "external_id",
        "kind",
        "status",
        "start_date",
        "end_date",
        "currency",
        "recurring_tcv",
        "one_time_fees",
        "acv",
        "seats",
        "auto_renew",
        "renews",
    )
    readonly_fields = ("acv",)

    @admin.display(description=_("ACV"))
    def acv(self, obj: Contract) -> str | None:
        return _contract_acv_display(obj)


class AccountChangeList(ChangeList):
    """Computes "ACV today" for the whole page at once (one query for live contracts, one for rates)."""

    def get_results(self, request):
        super().get_results(request)
        accounts = list(self.result_list)  # evaluates the page once; the template iterates the same cache
        book = account_acv_book(as_of=timezone.localdate(), account_ids=[a.pk for a in accounts])
        if book.missing:
            messages.warning(
                request,
                _("ACV is N/A for %(count)d account(s) of this page: %(reasons)s.")
                % {
                    "count": len(book.missing),
                    "reasons": "; ".join(sorted({item["reason"] for item in book.excluded})),
                },
            )
        for account in accounts:
            setattr(account, ACV_TODAY_ATTR, book)


@admin.register(Account)
class AccountAdmin(MarksAccountChanged):
    list_display = (
        "external_id",
        "name",
        "owner",
        "account_executive",
        "segment",
        "status",
        "industry",
        "region",
        "acv_today",
    )
    list_display_links = ("external_id", "name")
    list_filter = (
        "segment",
        "status",
        ("industry", BlankValueListFilter),
        ("region", BlankValueListFilter),
        ("owner", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("owner", "account_executive")
    search_fields = ("name", "external_id", "domain")
    autocomplete_fields = ("owner", "account_executive", "parent")
    readonly_fields = ("acv_today", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("external_id", "name", "domain", "parent")}),
        (_("Coverage"), {"fields": ("owner", "account_executive", "segment")}),
        (_("Profile"), {"fields": ("industry", "region")}),
        (_("Status"), {"fields": ("status", "churned_on")}),
        (_("Value"), {"fields": ("acv_today", "created_at", "updated_at")}),
    )
    inlines = (ContactInline, ContractInline)

    def get_changelist(self, request, **kwargs):
        return AccountChangeList

    @admin.display(description=_("ACV today"))
    def acv_today(self, obj: Account) -> str | None:
        if obj.pk is None:
            return None
        # The changelist sets the page's book on each account; the change page reads this one account's.
        book: AcvBook = getattr(obj, ACV_TODAY_ATTR, None) or account_acv_book(
            as_of=timezone.localdate(), account_ids=[obj.pk]
        )
        acv = book.get(obj.pk)
        if acv is None:
            return _("N/A: %(reason)s") % {"reason": missing_rate_reason(book.missing[obj.pk], book.rates_on)}
        return _money(acv, settings.REPORTING_CURRENCY)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Contact:
            for contact_form in formset.forms:
                if contact_form.instance.pk and "last_engaged_at" in contact_form.changed_data:
                    contact_engagement_record(contact=contact_form.instance)


@admin.register(Contact)
class ContactAdmin(MarksAccountChanged):
    list_display = ("name", "email", "account", "title", "contact_roles", "active", "last_engaged_at")
    list_filter = (
        "is_champion",
        "is_executive_sponsor",
        "is_decision_maker",
        "is_billing",
        "is_end_user",
        "active",
    )
    list_select_related = ("account",)
    search_fields = ("name", "email", "user_id", "account__name")
    autocomplete_fields = ("account",)
    readonly_fields = ("created_at",)

    @admin.display(description=_("roles"))
    def contact_roles(self, obj: Contact) -> str:
        return ", ".join(obj.roles)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "last_engaged_at" in form.changed_data:
            contact_engagement_record(contact=obj)


@admin.register(Contract)
class ContractAdmin(MarksAccountChanged):
    list_display = (
        "external_id",
        "account",
        "kind",
        "status",
        "start_date",
        "end_date",
        "currency",
        "recurring_tcv",
        "acv",
        "seats",
    )
    list_filter = ("kind", "status", "currency", "auto_renew")
    list_select_related = ("account",)
    search_fields = ("external_id", "account__name", "account__external_id")
    autocomplete_fields = ("account", "renews")
    date_hierarchy = "end_date"
    readonly_fields = ("acv", "created_at")
    fieldsets = (
        (None, {"fields": ("external_id", "account", "kind", "status", "renews", "auto_renew")}),
        (_("Term"), {"fields": ("start_date", "end_date")}),
        (_("Value"), {"fields": ("currency", "recurring_tcv", "acv", "one_time_fees", "seats")}),
        (None, {"fields": ("created_at",)}),
    )

    @admin.display(description=_("ACV"))
    def acv(self, obj: Contract) -> str | None:
        return _contract_acv_display(obj)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("currency", "date", "rate")
    list_filter = ("currency",)
    date_hierarchy = "date"


# The timeline ----------------------------------------------------------------------------------------------


@admin.register(Activity)
class ActivityAdmin(MarksAccountChanged):
    list_display = ("occurred_at", "account", "kind", "author", "subject")
    list_filter = ("kind",)
    list_select_related = ("account", "author")
    search_fields = ("subject", "body", "account__name")
    autocomplete_fields = ("account", "author", "contact")
    date_hierarchy = "occurred_at"
    readonly_fields = ("created_at",)
