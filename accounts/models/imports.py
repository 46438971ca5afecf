"""Spreadsheet imports (accounts/imports/): saved column mappings and the record of each import, with what it
changed so that the latest import of a kind can be undone."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", _("Accounts")
    CONTACTS = "contacts", _("Contacts")
    CONTRACTS = "contracts", _("Contracts")
    EXCHANGE_RATES = "exchange_rates", _("Exchange rates")
    ACTIVITIES = "activities", _("Activities")


class ImportMapping(models.Model):
    """A named column mapping: ``{"source column": "field"}`` (a column mapped to "" is ignored)."""

    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    name = models.CharField(max_length=100)
    columns = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="import_mapping_name_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class ImportRun(models.Model):
    """One import of a file: pending (uploaded in the browser, its bytes kept until applied), applied, or undone.

    ``changes`` is what the apply did, for the undo: ``{"created": [ids], "updated": [[id, {field: previous}]]}``.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPLIED = "applied", _("Applied")
        UNDONE = "undone", _("Undone")

    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file_name = models.CharField(max_length=255)
    content = models.BinaryField(default=bytes, help_text=_("The uploaded file until it is applied."))
    mapping = models.JSONField(default=dict, help_text=_("The column mapping used."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "status", "applied_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.file_name} ({self.get_status_display()})"
