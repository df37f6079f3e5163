"""Observers and their personal sign-in links.

A link carries a random token; only its SHA-256 is stored, so a database leak does not let
anyone sign in. The short code is for typing on a phone when the link cannot be opened.
"""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from reports.models import Election, Observer, ObserverContact, SignInLink, Station, Trust
from reports.services.audit import audit_record
from reports.services.signin import signin_sessions_end, token_hash

SHORT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
SHORT_CODE_LENGTH = 8


@transaction.atomic
def observer_create(
    *,
    election: Election,
    pseudonym: str,
    legal_status: str,
    trust: int = Trust.NEW,
    stations: list[Station] = (),
    full_name: str = "",
    phone: str = "",
    email: str = "",
    messenger: str = "",
    actor: AbstractBaseUser | None = None,
) -> Observer:
    """Create an observer with a sign-in-only user account, contacts kept apart."""
    user = get_user_model().objects.create_user(username=f"observer-{pseudonym}", password=None)
    observer = Observer.objects.create(
        user=user, election=election, pseudonym=pseudonym, legal_status=legal_status, trust=trust
    )
    ObserverContact.objects.create(
        observer=observer, full_name=full_name, phone=phone, email=email, messenger=messenger
    )
    observer.stations.add(*stations)
    audit_record(
        actor=actor,
        action="observer_create",
        obj=observer,
        after={"pseudonym": pseudonym, "stations": [s.number for s in stations]},
    )
    return observer


@transaction.atomic
def signin_link_issue(
    *, observer: Observer, actor: AbstractBaseUser | None = None
) -> tuple[SignInLink, str]:
    """Issue a new personal link; return it with the raw token (shown once, never stored)."""
    token = secrets.token_urlsafe(24)
    while True:
        code = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))
        if not SignInLink.objects.filter(short_code=code).exists():
            break
    link = SignInLink.objects.create(
        observer=observer, token_hash=token_hash(token), short_code=code
    )
    audit_record(actor=actor, action="signin_link_issue", obj=link)
    return link, token


@transaction.atomic
def signin_link_revoke(*, link: SignInLink, actor: AbstractBaseUser | None = None) -> bool:
    """Revoke a link and sign out the sessions it opened, at once."""
    revoked = SignInLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        signin_sessions_end(link=link)
        audit_record(actor=actor, action="signin_link_revoke", obj=link)
    return bool(revoked)
