"""Who may read what. A caller reads the public dataset unless a full-read token or a staff
member's `reports.view_report` permission says otherwise; no caller ever reads contacts."""

from rest_framework.permissions import BasePermission

from ..models import ExportScope, PartnerToken, TokenScope


def caller_token(request) -> PartnerToken | None:
    return request.auth if isinstance(request.auth, PartnerToken) else None


def read_scope(request) -> str:
    token = caller_token(request)
    if token is not None:
        return ExportScope.FULL if token.scope == TokenScope.FULL_READ else ExportScope.PUBLIC
    if request.user.has_perm("reports.view_report"):
        return ExportScope.FULL
    return ExportScope.PUBLIC


class FullRead(BasePermission):
    """Tallies and alerts count unverified reports: trusted partners and staff only."""

    def has_permission(self, request, view) -> bool:
        return read_scope(request) == ExportScope.FULL


class SubmitReports(BasePermission):
    """A submit-scope token, or a signed-in observer."""

    def has_permission(self, request, view) -> bool:
        token = caller_token(request)
        if token is not None:
            return token.scope == TokenScope.SUBMIT
        return hasattr(request.user, "observer")


class Identified(BasePermission):
    """A partner token or a signed-in person: exports belong to someone."""

    def has_permission(self, request, view) -> bool:
        return caller_token(request) is not None or request.user.is_authenticated
