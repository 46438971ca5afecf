"""The admin of usage and its ingestion: sources, events and rollups (read-only), write keys (issued and revoked
through the services), the quarantine and the feature catalog.

Keys are issued here (the plaintext is shown once, in a message) or with ``manage.py create_write_key``, and revoked
with the list action, the change form or ``manage.py revoke_write_key``: always through ``write_key_revoke``, which
drops the cached lookup so the revocation takes effect at once.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..ingestion.services import SOURCE_NAME_MAX, quarantine_release, write_key_create, write_key_revoke
from ..models import (
    Account,
    AccountFeatureUsage,
    AccountUserUsage,
    Feature,
    QuarantinedEvent,
    Source,
    UsageDay,
    UsageEvent,
    UsageFeatureDay,
    UsageUserDay,
    WriteKey,
)


class IngestedAdmin(admin.ModelAdmin):
    """Rows written by ingestion only: viewable, never added or edited here. Deleting stays a model permission
    (Admins have it), since deleting an account or source through the admin must be able to cascade to them."""

    show_full_result_count = False  # these tables get huge: skip the second, unfiltered COUNT(*)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)
    readonly_fields = ("created_at",)


@admin.register(UsageEvent)
class UsageEventAdmin(IngestedAdmin):
    list_display = ("occurred_at", "account", "user_id", "event", "source")
    list_filter = ("source", "timestamp_clamped")
    list_select_related = ("account", "source")
    search_fields = ("event", "=user_id", "=message_id")
    autocomplete_fields = ("account",)
    date_hierarchy = "occurred_at"


@admin.register(UsageDay)
class UsageDayAdmin(IngestedAdmin):
    list_display = ("day", "account", "events")
    list_select_related = ("account",)
    search_fields = ("account__name", "account__external_id")
    date_hierarchy = "day"
    ordering = ("-day",)


@admin.register(UsageUserDay)
class UsageUserDayAdmin(IngestedAdmin):
    list_display = ("day", "account", "user_id", "events")
    list_select_related = ("account",)
    search_fields = ("=user_id", "account__name", "account__external_id")
    date_hierarchy = "day"
    ordering = ("-day",)


@admin.register(UsageFeatureDay)
class UsageFeatureDayAdmin(IngestedAdmin):
    list_display = ("day", "account", "feature", "events")
    list_select_related = ("account", "feature")
    search_fields = ("feature__name", "account__name", "account__external_id")
    date_hierarchy = "day"
    ordering = ("-day",)


@admin.register(AccountFeatureUsage)
class AccountFeatureUsageAdmin(IngestedAdmin):
    list_display = ("account", "feature", "first_used_at", "last_used_at", "events")
    list_select_related = ("account", "feature")
    search_fields = ("feature__name", "account__name", "account__external_id")
    ordering = ("-last_used_at",)


@admin.register(AccountUserUsage)
class AccountUserUsageAdmin(IngestedAdmin):
    list_display = ("account", "user_id", "first_seen_at", "last_seen_at", "events")
    list_select_related = ("account",)
    search_fields = ("=user_id", "account__name", "account__external_id")
    ordering = ("-last_seen_at",)


class WriteKeyAddForm(forms.ModelForm):
    """A new key is named after the app that sends with it: an existing source, or a new name (created)."""

    name = forms.CharField(
        label=_("Name"),
        max_length=SOURCE_NAME_MAX,
        required=False,
        help_text=_("The app or integration that will send with this key, e.g. “Web app”. Or pick a source below."),
    )

    class Meta:
        model = WriteKey
        fields = ["source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].required = False

    def clean(self):
        data = super().clean()
        name, source = (data.get("name") or "").strip(), data.get("source")
        if bool(name) == bool(source):
            raise forms.ValidationError(_("Name the key, or pick an existing source (one of the two)."))
        data["source_name"] = name or source.name
        return data


@admin.register(WriteKey)
class WriteKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "source", "created_by", "created_at", "revoked_at")
    list_filter = ("source", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("source", "created_by")
    search_fields = ("prefix", "source__name")
    actions = ("revoke",)

    class Media:
        js = ("js/app.js",)  # the copy button of a new key (no inline handler: Content-Security-Policy)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = WriteKeyAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ("name", "source") if obj is None else ("source", "prefix", "created_by", "created_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        readonly = ("source", "prefix", "created_by", "created_at")
        return (*readonly, "revoked_at") if obj.revoked_at else readonly

    def save_model(self, request, obj, form, change):
        if change:
            if "revoked_at" in form.changed_data and obj.revoked_at:
                write_key_revoke(write_key_id=obj.pk, revoked_at=obj.revoked_at)
            return
        write_key, plaintext = write_key_create(source_name=form.cleaned_data["source_name"], created_by=request.user)
        obj.pk = write_key.pk
        obj.refresh_from_db()
        text = _("The new write key of %(source)s is %(key)s. Copy it now: it is stored hashed and never shown again.")
        messages.warning(
            request,
            format_html(
                '{} <button type="button" class="button" data-copy-text="{}" data-copied="{}">{}</button>',
                text % {"source": obj.source.name, "key": plaintext},
                plaintext,
                _("Copied"),
                _("Copy the key"),
            ),
        )

    @admin.action(description=_("Revoke the selected write keys"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = sum(write_key_revoke(write_key_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, ngettext("%d write key revoked.", "%d write keys revoked.", revoked) % revoked)


@admin.register(QuarantinedEvent)
class QuarantinedEventAdmin(admin.ModelAdmin):
    """Calls whose account is unknown: read-only. The action attaches those whose account or contact now exists
    (e.g. an account created here or imported from the CRM rather than by a group call)."""

    list_display = ("received_at", "source", "kind", "event", "user_id", "group_id", "reason", "timestamp_clamped")
    list_filter = ("source", "kind", "reason")
    list_select_related = ("source",)
    search_fields = ("event", "=user_id", "=group_id", "=message_id")
    date_hierarchy = "received_at"
    show_full_result_count = False
    actions = ("release",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Attach the selected calls whose account is now known"), permissions=["delete"])
    def release(self, request, queryset):
        group_ids = set(queryset.exclude(group_id="").values_list("group_id", flat=True))
        released = quarantine_release(
            account_ids=Account.objects.filter(external_id__in=group_ids).values_list("id", flat=True),
            user_ids=queryset.filter(group_id="").values_list("user_id", flat=True),
        )
        self.message_user(request, ngettext("%d call attached.", "%d calls attached.", released) % released)


@admin.register(Feature)
class FeatureAdmin(admin.ModelAdmin):
    """The catalog fills itself from events; admins label features, mark the key ones, or ignore them."""

    list_display = ("name", "label", "is_key", "ignored", "first_seen_at")
    list_editable = ("label", "is_key", "ignored")
    list_filter = ("is_key", "ignored")
    search_fields = ("name", "label")
    fields = ("name", "label", "is_key", "ignored", "first_seen_at")
    readonly_fields = ("name", "first_seen_at")

    def get_changelist_formset(self, request, **kwargs):
        """Each editable cell's input named by its column (the list's header does not label it: axe "label")."""
        formset = super().get_changelist_formset(request, **kwargs)
        for field in formset.form.base_fields.values():
            field.widget.attrs["aria-label"] = field.label
        return formset

    def has_add_permission(self, request):
        return False
