"""`manage.py check --deploy` with production settings given by the environment.

Run in a subprocess, because settings are read once at start-up: the test process itself
runs with test settings. Warnings count as failures (--fail-level WARNING).
"""

import os
import secrets
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "observer.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://observer.example.org",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "BEHIND_TLS_PROXY": "1",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def deploy_check(**overrides: str) -> subprocess.CompletedProcess:
    inherited = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env = {**inherited, **PRODUCTION, **overrides}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check():
    result = deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deploy_check_needs_no_migrated_database(tmp_path):
    """A fresh machine checks before it migrates: the API schema must not query tables."""
    result = deploy_check(SQLITE_PATH=str(tmp_path / "fresh.sqlite3"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_deployment_without_redis_is_refused():
    """Without Redis, tasks would run inside requests and rate limits per process."""
    result = deploy_check(REDIS_URL="")
    assert result.returncode != 0
    assert "REDIS_URL must be set when DEBUG is off" in result.stderr


def test_a_deployment_without_https_redirect_and_hsts_is_flagged():
    result = deploy_check(SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout
    assert "security.W008" in result.stderr + result.stdout


def test_a_short_secret_key_is_flagged():
    result = deploy_check(SECRET_KEY="short")
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = deploy_check(SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
