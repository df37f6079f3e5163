"""Elections and incident categories: edits, archiving and retiring, each with its audit entry.

Nothing that holds data is deleted. An election is archived instead: every row is kept, its
observers' links are revoked (their phones are signed out), the form pages stop offering it
and the admin shows it read-only. A category in use is renamed or retired: old reports keep
it, the forms stop offering it.
"""

import hashlib
import json

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from reports.models import Category, Election, Incident, Report, SignInLink
from reports.services.audit import audit_record
from reports.services.observers import signin_link_revoke

ELECTION_FIELDS = ("name", "date", "time_zone", "polls_open", "polls_close", "is_active")
CATEGORY_FIELDS = (
    "phase", "severity", "golos_code", "name_en", "name_ru", "hint_en", "hint_ru",
    "position", "discouraged", "system_only", "retired",
)  # fmt: skip


class ElectionArchived(Exception):
    """An archived election takes no more changes."""


class CategoryInUse(Exception):
    """A category that reports or incidents refer to is retired, not deleted."""


def election_state(election: Election) -> dict:
    """What the audit log keeps of an election; the protocol template by its hash."""
    state = {field: str(getattr(election, field)) for field in ELECTION_FIELDS}
    template = json.dumps(election.protocol_template, sort_keys=True, ensure_ascii=False)
    state["protocol_template_sha256"] = hashlib.sha256(template.encode()).hexdigest()
    state["archived_at"] = election.archived_at.isoformat() if election.archived_at else None
    return state


def saved_with_audit(obj, *, stored, state, actor: AbstractBaseUser | None):
    """Save `obj` (its row `stored` locked before, None when new) and log `<model>_create` or
    `<model>_change` with the `state` before and after."""
    obj.save()
    name = obj._meta.model_name
    audit_record(
        actor=actor,
        action=f"{name}_change" if stored else f"{name}_create",
        obj=obj,
        before=state(stored) if stored else None,
        after=state(obj),
    )
    return obj


@transaction.atomic
def election_save(*, election: Election, actor: AbstractBaseUser | None) -> Election:
    """Create or change an election (the admin's form), with before and after in the log."""
    stored = Election.objects.select_for_update().filter(pk=election.pk).first()
    if stored is not None and stored.archived_at is not None:
        raise ElectionArchived(str(election.pk))
    return saved_with_audit(election, stored=stored, state=election_state, actor=actor)


@transaction.atomic
def election_archive(*, election: Election, actor: AbstractBaseUser | None) -> int:
    """Archive an election: keep every row, take no more reports. Returns the number of
    sign-in links revoked (0 when it was archived already)."""
    before = election_state(election)
    archived = Election.objects.filter(pk=election.pk, archived_at__isnull=True).update(
        archived_at=timezone.now(), is_active=False
    )
    if not archived:
        return 0
    election.refresh_from_db()
    links = SignInLink.objects.filter(observer__election=election, revoked_at__isnull=True)
    revoked = sum(signin_link_revoke(link=link, actor=actor) for link in links)
    audit_record(
        actor=actor,
        action="election_archive",
        obj=election,
        before=before,
        after=election_state(election),
        note=f"{revoked} sign-in links revoked",
    )
    return revoked


def category_state(category: Category) -> dict:
    return {field: getattr(category, field) for field in CATEGORY_FIELDS}


def category_in_use(category: Category) -> bool:
    return (
        Report.objects.filter(category=category).exists()
        or Incident.objects.filter(category=category).exists()
    )


@transaction.atomic
def category_save(*, category: Category, actor: AbstractBaseUser | None) -> Category:
    """Create or change (rename, retire, restore) a category, with the change in the log."""
    stored = Category.objects.select_for_update().filter(pk=category.pk).first()
    return saved_with_audit(category, stored=stored, state=category_state, actor=actor)


@transaction.atomic
def category_retire(
    *, category: Category, actor: AbstractBaseUser | None, retired: bool = True
) -> bool:
    """Stop (or start again) offering a category on the forms; False if nothing changed."""
    if category.retired == retired:
        return False
    category.retired = retired
    category_save(category=category, actor=actor)
    return True


@transaction.atomic
def category_delete(*, category: Category, actor: AbstractBaseUser | None) -> None:
    """Delete a category nobody has used; one in use raises CategoryInUse."""
    if category_in_use(category):
        raise CategoryInUse(category.code)
    audit_record(
        actor=actor, action="category_delete", obj=category, before=category_state(category)
    )
    category.delete()
