"""The admin app of the platform: Django's, with the site of ``csm_platform.admin_site``."""

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "csm_platform.admin_site.AdminSite"

    def ready(self):
        super().ready()
        from django.contrib.admin.widgets import AdminSplitDateTime

        # A date-and-time field's two inputs, each labelled by its caption (Django's template leaves "Date:" and
        # "Time:" plain text: neither input has a name, issue 11).
        AdminSplitDateTime.template_name = "web/admin_split_datetime.html"
