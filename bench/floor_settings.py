"""The site's settings with nothing but the bench floor's one URL and no middleware.

Used only by bench/rehearsal/run.py: `DJANGO_SETTINGS_MODULE=bench.floor_settings`. The
shipped site (observer.settings) never routes to the floor endpoint.
"""

from observer.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
MIDDLEWARE: list[str] = []
