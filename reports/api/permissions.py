"""Who may read what. A caller reads the public dataset unless a full-read token or a staff
member's `reports.view_report` permission says otherwise; no caller ever reads contacts.
A staff member limited to some okrugs (StaffScope) reads incidents, reports and alerts of
those okrugs only, as in the moderation panel; partner tokens have no such limit."""

from django.db.models import QuerySet
from rest_framework.permissions import BasePermission

from reports.models import ExportScope, PartnerToken, TokenScope
from reports.selectors import in_scope, staff_okrug_ids


def caller_token(request) -> PartnerToken | None:
    return request.auth if isinstance(request.auth, PartnerToken) else None


def read_scope(request) -> str:
    token = caller_token(request)
    if token is not None:
        return ExportScope.FULL if token.scope == TokenScope.FULL_READ else ExportScope.PUBLIC
    if request.user.has_perm("reports.view_report"):
        return ExportScope.FULL
    return ExportScope.PUBLIC


def staff_scoped(request, queryset: QuerySet, okrug_path: str) -> QuerySet:
    """`queryset` limited to the okrugs of the signed-in staff member, if they are limited."""
    if caller_token(request) is not None or not request.user.is_authenticated:
        return queryset
    return in_scope(queryset, request.user, okrug_path)


def okrug_limited(request) -> bool:
    """A signed-in staff member who works on some okrugs only (and no partner token)."""
    if caller_token(request) is not None or not request.user.is_authenticated:
        return False
    return staff_okrug_ids(request.user) is not None


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
