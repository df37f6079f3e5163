from django.core.management.base import BaseCommand

from reports.services.roles import role_groups_ensure


class Command(BaseCommand):
    help = (
        "Create or update the role groups (moderator, coordinator, lawyer, administrator) "
        "so they hold exactly their permissions. Run after adding models."
    )

    def handle(self, *args, **options) -> None:
        groups = role_groups_ensure()
        self.stdout.write(self.style.SUCCESS(f"Role groups up to date: {', '.join(groups)}"))
