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
        from reports.models import Category, Election, Station
        from reports.services.signin import sender_copies_forget

        post_migrate.connect(role_groups_after_migrate, sender=self)
        for forget, models in (
            (categories_forget, [Category]),
            (sender_copies_forget, [Election, Station]),
        ):
            post_migrate.connect(forget, sender=self)
            for model in models:
                post_save.connect(forget, sender=model)
                post_delete.connect(forget, sender=model)


class HeadquartersAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the headquarters' site: tables grouped by task (headquarters.py)."""

    default = False  # reports' own config is ReportsConfig; this one is named in settings
    default_site = "reports.headquarters.HeadquartersSite"
