"""Rate limits that keep a floor of protection while Redis is down.

django-ratelimit counts requests per address in the cache named by RATELIMIT_USE_CACHE; with
Redis, that is `FailoverRedisCache`: Django's Redis cache, except that when Redis does not
answer it counts in this process's own memory instead of raising. So a Redis outage never
turns a limit into an error (reports keep flowing), the anonymous doors (the citizen form,
sign-in) keep a floor of protection (each web process counts on its own: N processes let
through N times the rate), and coordinators get an alert that limits are degraded
(`services.alerts.limits_degraded_alert`, at most once per process every few minutes).
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError
from redis.exceptions import RedisError

from reports.services.alerts import limits_degraded_alert

log = logging.getLogger(__name__)

# A process that found Redis down says so again after this long, if it still is.
NOTICE_SECONDS = 300


class FailoverRedisCache(RedisCache):
    """The counters of rate limits: Redis, or this process's memory while Redis is down."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self.local = LocMemCache("ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})
        self.noticed_until = 0.0

    def degraded(self) -> LocMemCache:
        now = time.monotonic()
        if now >= self.noticed_until:
            self.noticed_until = now + NOTICE_SECONDS
            log.warning("Redis does not answer: rate limits count in this process only")
            try:
                limits_degraded_alert()
            except DatabaseError:
                log.exception("could not raise the alert that rate limits are degraded")
        return self.local

    def add(self, key, value, timeout=None, version=None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except RedisError:
            return self.degraded().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None) -> int:
        try:
            return super().incr(key, delta, version)
        except RedisError:
            return self.degraded().incr(key, delta, version)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError:
            return self.degraded().get(key, default, version)
