from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JourneysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "journeys"
    verbose_name = _("Journeys, playbooks and surveys")

    def ready(self) -> None:
        from accounts.demo import register_demo_step
        from accounts.events import register_listener
        from accounts.ingestion.services import track_handler_register
        from csm_platform.navigation import NAV_ITEMS, NavItem
        from health.features import register_feature
        from health.measures import register
        from health.pipeline import register_after_recompute

        from . import demo, health_hooks
        from .services.surveys import TRACK_EVENT, survey_track_handler
        from .webhooks.services import webhook_import_finished

        track_handler_register(event=TRACK_EVENT, handler=survey_track_handler)
        register(health_hooks.NPS_MEASURE)
        for key, function in health_hooks.FEATURES.items():
            register_feature(key, function)
        register_after_recompute(health_hooks.after_recompute)
        register_listener("import_finished", webhook_import_finished)
        register_demo_step("journeys", load=demo.demo_load, after_backfill=demo.demo_after_backfill)
        items = [
            NavItem("journeys:my_tasks", _("My tasks")),
            NavItem("journeys:funnel", _("Journey")),
            NavItem("journeys:surveys", _("Surveys")),
            NavItem("journeys:playbooks", _("Playbooks")),
        ]
        NAV_ITEMS.extend(items)
