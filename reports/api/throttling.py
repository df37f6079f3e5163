"""Rate limits per address (every caller) and per partner token, counted in the cache.

Rates come from settings.API_THROTTLE_RATES at each request, not at import, so that they
can be set per deployment and per test.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from ..models import PartnerToken


class SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]


class AddressRateThrottle(SettingsRateThrottle):
    scope = "address"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenRateThrottle(SettingsRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, PartnerToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
