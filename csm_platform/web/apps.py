from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The pages: portfolio, account 360, renewals, leadership and system status (they compose every app)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "csm_platform.web"
    label = "web"
    verbose_name = _("Pages")

    def ready(self) -> None:
        from csm_platform.navigation import NAV_ITEMS, NavItem

        from .permissions import can_view_leadership, can_view_status

        items = [
            NavItem("web:portfolio", _("Portfolio")),
            NavItem("web:renewals", _("Renewals")),
            NavItem("web:leadership", _("Leadership"), can_view_leadership),
            NavItem("web:status", _("System status"), can_view_status),
        ]
        known = {item.url_name for item in NAV_ITEMS}
        NAV_ITEMS.extend(item for item in items if item.url_name not in known)
