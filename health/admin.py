import json
from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from .measures import REGISTRY, measure_choices
from .models import (
    AccountSnapshot,
    ChurnModelVersion,
    DataQualityProblem,
    RecomputeChunk,
    RecomputeRun,
    RevenueSnapshot,
    Scorecard,
    ScorecardMeasure,
    ScorecardPreview,
    ScorecardVersion,
)
from .selectors import ScorecardDefinition, measure_label
from .services import scorecard_preview_request, scorecard_publish
from .tasks import scorecard_preview_compute


class ScorecardMeasureForm(forms.ModelForm):
    measure = forms.ChoiceField(choices=measure_choices)

    class Meta:
        model = ScorecardMeasure
        fields = ["measure", "weight", "bad", "good"]


class ScorecardMeasureInline(admin.TabularInline):
    model = ScorecardMeasure
    form = ScorecardMeasureForm
    extra = 0
    min_num = 1

    def get_formset(self, request, obj=None, **kwargs):
        # The admin shows min_num forms but does not enforce it: deleting the last measure would reach publishing.
        return super().get_formset(request, obj, validate_min=True, **kwargs)


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    """Saving publishes a new version; "Preview" scores the edited, unsaved scorecard on today's data."""

    list_display = ["name", "segment_label", "version", "red_below", "green_from", "measure_count", "updated_at"]
    readonly_fields = ["version", "measure_help"]
    fields = ["name", "segment", "red_below", "green_from", "version", "measure_help"]
    inlines = [ScorecardMeasureInline]
    change_form_template = "admin/health/scorecard/change_form.html"

    @admin.display(description=_("segment"))
    def segment_label(self, obj):
        return obj.get_segment_display() or _("Default (every segment without its own)")

    @admin.display(description=_("measures"))
    def measure_count(self, obj):
        return obj.measures.count()

    @admin.display(description=_("available measures"))
    def measure_help(self, obj):
        return format_html_join(
            "",
            "<p><strong>{}</strong> ({}): {}</p>",
            ((m.label, key, m.description) for key, m in sorted(REGISTRY.items())),
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        version = scorecard_publish(scorecard_id=form.instance.pk)
        self.message_user(request, _("Published version %(v)s.") % {"v": version.version}, messages.SUCCESS)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and "_preview" in request.POST:
            return self._preview(request, object_id)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("preview/<int:preview_id>/", view(self.preview_view), name="health_scorecard_preview"),
            path(
                "preview/<int:preview_id>/progress/",
                view(self.preview_progress_view),
                name="health_scorecard_preview_progress",
            ),
            *super().get_urls(),
        ]

    def _preview(self, request, object_id):
        """Validate the edited, unsaved scorecard and queue its what-if (off the request path); show its page."""
        obj = self.get_object(request, object_id) if object_id else None
        if obj is not None and not self.has_change_permission(request, obj):
            raise PermissionDenied
        form = self.get_form(request, obj, change=obj is not None)(request.POST, instance=obj)
        form_valid = form.is_valid()
        instance = form.save(commit=False) if form_valid else (obj or Scorecard())
        formsets, _inlines = self._create_formsets(request, instance, change=obj is not None)
        if not form_valid or not all(formset.is_valid() for formset in formsets):
            self.message_user(request, _("Fix the errors in the form before previewing."), messages.ERROR)
            return super().changeform_view(request, object_id)
        definition = {
            "red_below": float(instance.red_below),
            "green_from": float(instance.green_from),
            "measures": [
                {"key": f["measure"], "weight": float(f["weight"]), "bad": float(f["bad"]), "good": float(f["good"])}
                for formset in formsets
                for f in formset.cleaned_data
                if f and not f.get("DELETE")
            ],
        }
        preview = scorecard_preview_request(
            scorecard_id=obj.pk if obj else None,
            segment=instance.segment,
            definition=definition,
            as_of=timezone.now().date(),
            user_id=request.user.pk,
        )
        if preview.status == ScorecardPreview.Status.PENDING:
            transaction.on_commit(lambda: scorecard_preview_compute.delay(preview.pk))
        return redirect("admin:health_scorecard_preview", preview_id=preview.pk)

    def _preview_context(self, request, preview_id: int) -> dict:
        preview = get_object_or_404(ScorecardPreview.objects.select_related("scorecard"), pk=preview_id)
        if preview.scorecard is not None and not self.has_view_or_change_permission(request, preview.scorecard):
            raise PermissionDenied
        measures = ScorecardDefinition.from_json(preview.definition).measures
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Preview of %(name)s") % {"name": preview.scorecard or _("a new scorecard")},
            "preview": preview,
            "rows": preview.rows[:200],
            "current_bands": Counter(row["current_band"] for row in preview.rows),
            "proposed_bands": Counter(row["proposed_band"] for row in preview.rows),
            "measures": [(measure_label(m.key), m) for m in measures],
        }

    def preview_view(self, request, preview_id: int):
        return TemplateResponse(
            request, "admin/health/scorecard/preview.html", self._preview_context(request, preview_id)
        )

    def preview_progress_view(self, request, preview_id: int):
        """The htmx fragment the preview page polls: progress until done, then the result."""
        context = self._preview_context(request, preview_id)
        return TemplateResponse(request, "admin/health/scorecard/preview_body.html", context)


@admin.register(ScorecardVersion)
class ScorecardVersionAdmin(admin.ModelAdmin):
    list_display = ["scorecard", "version", "published_at"]
    list_filter = ["scorecard"]
    readonly_fields = ["scorecard", "version", "published_at", "definition_pretty"]
    exclude = ["definition"]

    @admin.display(description=_("definition"))
    def definition_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.definition, indent=2))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AccountSnapshot)
class AccountSnapshotAdmin(admin.ModelAdmin):
    list_display = ["account", "as_of", "acv", "health", "band", "churn_probability", "risk_band"]
    list_filter = ["band", "risk_band", "as_of"]
    search_fields = ["account__name", "account__external_id"]
    date_hierarchy = "as_of"
    list_select_related = ["account"]
    show_full_result_count = False
    autocomplete_fields = ["account"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DataQualityProblem)
class DataQualityProblemAdmin(admin.ModelAdmin):
    """Open problems: what the latest night could not compute for an account, and how to fix it."""

    list_display = ["account_link", "as_of", "problem", "fix"]
    # The row's own link on its date: on the account column it would wrap the account's link (a link in a link, which
    # the browser splits into an empty link and the account's).
    list_display_links = ["as_of"]
    search_fields = ["account__name", "account__external_id"]
    list_select_related = ["account"]

    def get_queryset(self, request):
        latest = AccountSnapshot.objects.order_by("-as_of").values_list("as_of", flat=True).first()
        return super().get_queryset(request).filter(as_of=latest).exclude(problems=[])

    @admin.display(description=_("account"), ordering="account__name")
    def account_link(self, obj):
        url = reverse("admin:accounts_account_change", args=[obj.account_id])
        return format_html('<a href="{}">{}</a>', url, obj.account)

    @admin.display(description=_("problem"))
    def problem(self, obj):
        return format_html_join(mark_safe("<br>"), "{}", ((p["message"],) for p in obj.problems))

    @admin.display(description=_("how to fix it"))
    def fix(self, obj):
        return format_html_join(mark_safe("<br>"), "{}", ((p["fix"],) for p in obj.problems))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RevenueSnapshot)
class RevenueSnapshotAdmin(admin.ModelAdmin):
    list_display = ["as_of", "arr", "customers", "million_customers", "nrr", "grr", "logo_churn"]
    date_hierarchy = "as_of"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChurnModelVersion)
class ChurnModelVersionAdmin(admin.ModelAdmin):
    list_display = ["trained_at", "as_of", "kind", "is_fallback"]
    list_filter = ["kind", "is_fallback"]
    exclude = ["model", "card"]
    readonly_fields = ["trained_at", "as_of", "kind", "is_fallback", "card_pretty"]

    @admin.display(description=_("model card"))
    def card_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.card, indent=2, default=str))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RecomputeChunkInline(admin.TabularInline):
    model = RecomputeChunk
    fields = ["index", "status", "attempt", "claimed_at", "finished_at", "error", "size"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("accounts"))
    def size(self, obj):
        return len(obj.account_ids)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RecomputeRun)
class RecomputeRunAdmin(admin.ModelAdmin):
    list_display = ["as_of", "status", "attempt", "started_at", "finished_at", "accounts", "total_seconds"]
    list_filter = ["status"]
    date_hierarchy = "as_of"
    readonly_fields = ["as_of", "status", "attempt", "started_at", "finished_at", "counts", "timings", "errors"]
    inlines = [RecomputeChunkInline]

    @admin.display(description=_("accounts"))
    def accounts(self, obj):
        return obj.counts.get("accounts")

    @admin.display(description=_("seconds"))
    def total_seconds(self, obj):
        return obj.timings.get("total")

    def has_add_permission(self, request):
        return False
