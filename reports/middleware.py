"""Ends an observer's session at the first request after a coordinator revokes its link."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .models import SignInLink
from .services.signin import SIGNIN_LINK_SESSION_KEY


class SignInLinkMiddleware:
    """Sessions opened with a personal link cost one primary-key query per request; other
    sessions (staff, anonymous) cost nothing. Must come after the auth and messages
    middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        link_id = request.session.get(SIGNIN_LINK_SESSION_KEY)
        if link_id is not None and not link_active(link_id):
            logout(request)
            messages.warning(
                request,
                _("Your sign-in link was revoked. Ask your coordinator for a new one."),
            )
        return self.get_response(request)


def link_active(link_id: int) -> bool:
    return SignInLink.objects.filter(pk=link_id, revoked_at__isnull=True).exists()
