"""The pages' own settings an admin keeps: each quarter's renewal target."""

from django.contrib import admin

from .models import QuarterTarget


@admin.register(QuarterTarget)
class QuarterTargetAdmin(admin.ModelAdmin):
    list_display = ["quarter", "target"]
    search_fields = ["quarter"]
