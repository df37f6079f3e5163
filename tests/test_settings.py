"""Configuration comes from the environment and fails loudly on malformed values."""

import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SETTINGS_FILE = Path(settings.BASE_DIR) / "observer" / "settings.py"
CONFIG_VARS = [
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "TIME_ZONE",
    "LANGUAGE_CODE",
    "EVIDENCE_MAX_BYTES",
    "TASKS_IN_PROCESS",
    "API_THROTTLE_ADDRESS",
    "API_THROTTLE_TOKEN",
    "EMAIL_BACKEND",
    "DEFAULT_FROM_EMAIL",
    "LOG_LEVEL",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
]


@pytest.fixture
def env(monkeypatch):
    for name in CONFIG_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("TASKS_IN_PROCESS", "1")
    return monkeypatch


def load() -> dict:
    return runpy.run_path(str(SETTINGS_FILE))


def test_defaults_need_nothing_installed(env):
    env.delenv("TASKS_IN_PROCESS")
    env.setenv("DEBUG", "1")
    loaded = load()
    assert loaded["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is True
    assert loaded["LANGUAGE_CODE"] == "ru"


def test_redis_url_switches_to_real_workers(env):
    env.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    loaded = load()
    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is False
    assert loaded["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"


def test_database_url_selects_postgresql(env):
    env.setenv("DATABASE_URL", "postgres://u:p@db.example:5433/observer")
    database = load()["DATABASES"]["default"]
    assert database["ENGINE"] == "observer.postgresql"  # Django's, with a cheaper health check
    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        "db.example",
        5433,
        "observer",
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "mysql://localhost/x", "DATABASE_URL"),
        ("DATABASE_URL", "postgres://localhost", "must name a database"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL"),
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE"),
        ("LANGUAGE_CODE", "de", "LANGUAGE_CODE"),
        ("EVIDENCE_MAX_BYTES", "lots", "EVIDENCE_MAX_BYTES must be an integer"),
        ("EVIDENCE_MAX_BYTES", "0", "EVIDENCE_MAX_BYTES must be at least 1"),
        ("API_THROTTLE_ADDRESS", "lots", "API_THROTTLE_ADDRESS must be a rate"),
        ("API_THROTTLE_TOKEN", "600/fortnight", "API_THROTTLE_TOKEN must be a rate"),
        ("API_THROTTLE_TOKEN", "many/min", "API_THROTTLE_TOKEN must be a rate"),
        ("EMAIL_BACKEND", "smtp", "EMAIL_BACKEND must name an importable class"),
        ("EMAIL_BACKEND", "nowhere.Backend", "EMAIL_BACKEND must name an importable class"),
        ("DEFAULT_FROM_EMAIL", "alerts", "DEFAULT_FROM_EMAIL must be an e-mail address"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of"),
        ("TASKS_IN_PROCESS", "sometimes", "TASKS_IN_PROCESS must be a boolean"),
    ],
)
def test_malformed_value_is_refused_at_start(env, name, value, message):
    env.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        load()


def test_secret_key_is_required_without_debug(env):
    env.delenv("SECRET_KEY")
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        load()


def test_debug_has_a_development_key_and_local_hosts(env):
    env.delenv("SECRET_KEY")
    env.setenv("DEBUG", "1")
    loaded = load()
    assert loaded["SECRET_KEY"]
    assert loaded["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]


def test_production_cookies_are_secure(env):
    env.setenv("ALLOWED_HOSTS", "observe.example, www.observe.example")
    loaded = load()
    assert loaded["ALLOWED_HOSTS"] == ["observe.example", "www.observe.example"]
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True


def test_production_without_redis_is_refused_at_start(env):
    env.delenv("TASKS_IN_PROCESS")
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL must be set when DEBUG is off"):
        load()


def test_production_may_run_tasks_in_process_when_asked_on_purpose(env):
    env.setenv("TASKS_IN_PROCESS", "1")
    loaded = load()
    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is True


def test_throttle_rates_are_read_from_the_environment(env):
    env.setenv("API_THROTTLE_ADDRESS", "30/m")
    assert load()["API_THROTTLE_RATES"]["address"] == "30/m"


def test_hsts_does_not_ask_to_be_preloaded_unless_told(env):
    env.setenv("SECURE_HSTS_SECONDS", "31536000")
    loaded = load()
    assert loaded["SECURE_HSTS_SECONDS"] == 31536000
    assert loaded["SECURE_HSTS_PRELOAD"] is False


def test_hsts_preload_is_a_separate_opt_in(env):
    env.setenv("SECURE_HSTS_SECONDS", "31536000")
    env.setenv("SECURE_HSTS_PRELOAD", "1")
    assert load()["SECURE_HSTS_PRELOAD"] is True


def test_hsts_preload_with_a_short_max_age_is_refused(env):
    env.setenv("SECURE_HSTS_SECONDS", "3600")
    env.setenv("SECURE_HSTS_PRELOAD", "1")
    with pytest.raises(ImproperlyConfigured, match="SECURE_HSTS_PRELOAD"):
        load()
