"""Signing observers in with their personal link or its short code.

The session remembers which link opened it (SIGNIN_LINK_SESSION_KEY), so that
reports.middleware can end the session at the next request once a coordinator revokes that
link. A link stays usable until revoked: signing in again from a new phone is the same link.
"""

from django.db import transaction
from django.utils import timezone

from ..models import SignInLink
from .observers import short_code_normalise, token_hash

SIGNIN_LINK_SESSION_KEY = "signin_link_id"


@transaction.atomic
def signin_link_use(*, token: str = "", code: str = "") -> SignInLink | None:
    """Find the active link for a raw token or a short code and note its use; None if unknown
    or revoked."""
    if token:
        lookup = {"token_hash": token_hash(token)}
    elif code:
        lookup = {"short_code": short_code_normalise(code)}
    else:
        return None
    link = (
        SignInLink.objects.select_related("observer__user")
        .filter(revoked_at__isnull=True, observer__user__is_active=True, **lookup)
        .first()
    )
    if link is not None:
        SignInLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    return link
