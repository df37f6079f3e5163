"""Rate limits per address (every caller) and per partner token, counted in the cache.

Rates come from settings.API_THROTTLE_RATES at each request, not at import, so that they
can be set per deployment and per test. When the cache is down, requests are let through.
"""

import logging

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from reports.models import PartnerToken

log = logging.getLogger(__name__)


class SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view) -> bool:
        """Fail open when the cache is down: a Redis outage must not stop reports."""
        try:
            return super().allow_request(request, view)
        except RedisError:
            log.warning("API rate limit %s not checked: the cache is down", self.scope)
            return True


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
