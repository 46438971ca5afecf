from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The pages: portfolio, account 360, renewals, leadership and system status (they compose every app)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "csm_platform.web"
    label = "web"
    verbose_name = _("Pages")

    def ready(self) -> None:
        from accounts.demo import register_demo_step
        from csm_platform.navigation import NAV_ITEMS, NavItem
        from health.pipeline import register_after_recompute, register_after_refresh

        from . import demo
        from .permissions import can_view_leadership, can_view_status
        from .services import pages_after_recompute, pages_after_refresh

        register_demo_step("forecasts", load=demo.demo_load)
        # After journeys' step (installed before this app): time to value reads the stages it moves.
        register_after_recompute(pages_after_recompute)
        register_after_refresh(pages_after_refresh)

        items = [
            NavItem("web:portfolio", _("Portfolio")),
            NavItem("web:renewals", _("Renewals")),
            NavItem("web:leadership", _("Leadership"), can_view_leadership),
            NavItem("web:status", _("System status"), can_view_status),
        ]
        known = {item.url_name for item in NAV_ITEMS}
        NAV_ITEMS.extend(item for item in items if item.url_name not in known)
