"""/healthz says whether the database and the broker answer."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

PROBE = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def healthz_in_fresh_process(**env: str) -> dict:
    """Ask /healthz of a site started with the given environment (a real, separate process)."""
    full_env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="observer.settings",
        SECRET_KEY="k",
        ALLOWED_HOSTS="testserver",
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_healthy_site_answers_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    expected_broker = "ok" if settings.REDIS_URL else "in-process"
    assert response.json()["broker"] == expected_broker


def test_database_down_answers_503():
    answer = healthz_in_fresh_process(
        DATABASE_URL="postgres://nobody@127.0.0.1:1/observer", REDIS_URL="", TASKS_IN_PROCESS="1"
    )
    assert answer == {"status": 503, "body": {"database": "down", "broker": "in-process"}}


def test_broker_down_is_reported_but_site_stays_up(tmp_path):
    answer = healthz_in_fresh_process(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", REDIS_URL="redis://127.0.0.1:1/0"
    )
    assert answer == {"status": 200, "body": {"database": "ok", "broker": "down"}}
