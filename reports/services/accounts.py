"""Headquarters staff accounts: people who sign in to the admin with a username and password."""

from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AbstractUser, Group
from django.db import transaction

from reports.services.audit import audit_record


@transaction.atomic
def staff_account_ensure(
    *,
    username: str,
    password: str,
    roles: Sequence[str],
    superuser: bool = False,
    actor: AbstractBaseUser | None = None,
) -> AbstractUser:
    """Create a staff account, or reset an existing one's password, roles and superuser flag.

    `roles` are names of role groups (reports.services.roles), which must already exist.
    """
    groups = list(Group.objects.filter(name__in=roles))
    missing = set(roles) - {group.name for group in groups}
    if missing:
        raise LookupError(f"role groups missing: {sorted(missing)}")
    user, created = get_user_model().objects.get_or_create(username=username)
    user.is_staff = True
    user.is_active = True
    user.is_superuser = superuser
    user.set_password(password)
    user.save()
    user.groups.set(groups)
    audit_record(
        actor=actor,
        action="staff_account_create" if created else "staff_account_reset",
        obj=user,
        after={"roles": sorted(roles), "superuser": superuser},
    )
    return user
