from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs) -> None:
    from .services import role_groups_sync

    role_groups_sync()


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        # Roles follow the permissions of every installed app, so they are synced after each migrate.
        post_migrate.connect(_sync_roles, dispatch_uid="accounts.sync_roles")
