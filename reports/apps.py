from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def role_groups_after_migrate(sender, **kwargs) -> None:
    """Give the role groups the permissions of models added since their data migration."""
    from reports.services.roles import role_groups_ensure

    role_groups_ensure()


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Observer reports")

    def ready(self) -> None:
        import reports.tasks  # noqa: F401 (registers the tasks by name in every process)
        from reports.forms.reports import categories_forget
        from reports.models import Category

        post_migrate.connect(role_groups_after_migrate, sender=self)
        post_migrate.connect(categories_forget, sender=self)
        post_save.connect(categories_forget, sender=Category)
        post_delete.connect(categories_forget, sender=Category)


class HeadquartersAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the headquarters' site: tables grouped by task (headquarters.py)."""

    default = False  # reports' own config is ReportsConfig; this one is named in settings
    default_site = "reports.headquarters.HeadquartersSite"
