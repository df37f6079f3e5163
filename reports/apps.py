from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def role_groups_after_migrate(sender, **kwargs) -> None:
    """Give the role groups the permissions of models added since their data migration."""
    from .services.roles import role_groups_ensure

    role_groups_ensure()


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Observer reports")

    def ready(self) -> None:
        post_migrate.connect(role_groups_after_migrate, sender=self)
