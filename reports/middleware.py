"""Tells an observer why they were signed out when a coordinator revoked their link."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from reports.services.signin import SIGNIN_REVOKED_SESSION_KEY


def wants_json(request: HttpRequest) -> bool:
    """The form's script asks for JSON; a browser's own navigation asks for a page."""
    return request.headers.get("Accept", "").startswith("application/json")


class SignInLinkMiddleware:
    """Revoking a link signs its sessions out and marks them (services.signin); this shows
    the mark once, on the next page: a JSON answer (the form's script) shows no messages,
    and the script's reports (views.report_send) load no session at all. Must come after
    the session and messages middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not wants_json(request) and request.session.pop(SIGNIN_REVOKED_SESSION_KEY, False):
            messages.warning(
                request,
                _("Your sign-in link was revoked. Ask your coordinator for a new one."),
            )
        return self.get_response(request)
