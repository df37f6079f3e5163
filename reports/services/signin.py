"""Signing observers in with their personal link or its short code.

Every session a link opens is recorded (SignInSession). Revoking the link signs those
sessions out in the same transaction and leaves a mark in each (SIGNIN_REVOKED_SESSION_KEY),
so that reports.middleware can say why at the next request; no request has to ask the
database whether its link still holds. A link stays usable until revoked: signing in again
from a new phone is the same link.
"""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import transaction
from django.utils import timezone

from ..models import SignInLink, SignInSession
from .observers import short_code_normalise, token_hash

SIGNIN_LINK_SESSION_KEY = "signin_link_id"
SIGNIN_REVOKED_SESSION_KEY = "signin_link_revoked"


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


def signin_session_record(*, link: SignInLink, session_key: str) -> SignInSession:
    """Remember that this link opened this session; call right after logging in."""
    return SignInSession.objects.create(link=link, session_key=session_key)


@transaction.atomic
def signin_sessions_end(*, link: SignInLink) -> int:
    """Sign out every session this link opened; return how many were still open.

    Each session loses its login and keeps a mark that its link was revoked. A session
    that has since ended, or that signed in again with another link, is left alone.
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for record in SignInSession.objects.filter(link=link).select_for_update():
        store = store_class(session_key=record.session_key)
        if store.get(SIGNIN_LINK_SESSION_KEY) == link.pk:
            for key in (SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY):
                store.pop(key, None)
            del store[SIGNIN_LINK_SESSION_KEY]
            store[SIGNIN_REVOKED_SESSION_KEY] = True
            store.save()
            ended += 1
    SignInSession.objects.filter(link=link).delete()
    return ended
