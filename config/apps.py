from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """The admin, as a site that asks staff for a password and a TOTP code."""

    default_site = "config.admin.StaffAdminSite"
