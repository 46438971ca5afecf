"""The admin app of the platform: Django's, with the site of ``csm_platform.admin_site``."""

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "csm_platform.admin_site.AdminSite"
