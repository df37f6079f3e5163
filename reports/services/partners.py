"""Partner tokens: created by administrators, shown once, stored hashed, revocable.

The raw token is `obs_` and 32 random URL-safe characters; only its SHA-256 is kept, with
its first characters to tell tokens apart in the admin.
"""

import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from reports.models import PartnerToken
from reports.services.audit import audit_record
from reports.services.signin import token_hash

TOKEN_PREFIX = "obs_"  # noqa: S105 (a marker, not a secret)
# Recording every use would turn each read into a write: once a minute is enough to know.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def partner_token_create(
    *, name: str, scope: str, actor: AbstractBaseUser | None = None
) -> tuple[PartnerToken, str]:
    """Create a token; return it with the raw value, which is shown once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(24)
    token = PartnerToken.objects.create(
        name=name,
        scope=scope,
        token_hash=token_hash(raw),
        prefix=raw[: len(TOKEN_PREFIX) + 4],
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit_record(
        actor=actor, action="partner_token_create", obj=token, after={"name": name, "scope": scope}
    )
    return token, raw


@transaction.atomic
def partner_token_revoke(*, token: PartnerToken, actor: AbstractBaseUser | None = None) -> bool:
    """Revoke a token; the next request made with it is refused."""
    revoked = PartnerToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        audit_record(actor=actor, action="partner_token_revoke", obj=token)
    return bool(revoked)


def partner_token_touch(*, token: PartnerToken) -> None:
    """Record that the token was just used (at most one write a minute per token)."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    PartnerToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
