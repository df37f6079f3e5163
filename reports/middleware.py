"""Tells an observer why they were signed out when a coordinator revoked their link."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .services.signin import SIGNIN_REVOKED_SESSION_KEY


class SignInLinkMiddleware:
    """Revoking a link signs its sessions out and marks them (services.signin); this shows
    the mark once. It reads the session the auth middleware loads anyway: no query. Must
    come after the session and messages middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.session.pop(SIGNIN_REVOKED_SESSION_KEY, False):
            messages.warning(
                request,
                _("Your sign-in link was revoked. Ask your coordinator for a new one."),
            )
        return self.get_response(request)
