"""Partner tokens in the Authorization header: `Bearer obs_…` (or `Token obs_…`)."""

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from reports.models import PartnerToken
from reports.services.partners import partner_token_touch
from reports.services.signin import token_hash

KEYWORDS = (b"bearer", b"token")


class PartnerTokenAuthentication(BaseAuthentication):
    """Authenticates a partner, not a person: request.user stays anonymous, request.auth is
    the PartnerToken. A revoked or unknown token is refused (401), never ignored."""

    def authenticate(self, request):
        words = get_authorization_header(request).split()
        if not words or words[0].lower() not in KEYWORDS:
            return None
        if len(words) != 2:
            raise AuthenticationFailed(_("Give the token after the word Bearer, with no spaces."))
        try:
            raw = words[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_("Invalid or revoked token.")) from None
        token = PartnerToken.objects.filter(
            token_hash=token_hash(raw), revoked_at__isnull=True
        ).first()
        if token is None:
            raise AuthenticationFailed(_("Invalid or revoked token."))
        partner_token_touch(token=token)
        return AnonymousUser(), token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class PartnerTokenScheme(OpenApiAuthenticationExtension):
    target_class = PartnerTokenAuthentication
    name = "partnerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A partner token issued by the site's administrators.",
        }
