"""Shared fixtures: a small election, its categories, an observer with a personal link, a
moderator, and clients signed in as them. Keep these stable: every feature's tests use them.

    election          "Тестовые выборы" (today, Europe/Moscow) with two okrugs, one TIK each
    stations          {number: Station}: 101 and 102 (okrug ЦАО, TIK Арбат),
                      201 (okrug САО, TIK Аэропорт), 3601 (temporary, okrug САО)
    categories        {code: Category}, the 24 categories of DOMAIN.md §4
    observer          "Сова", trained observer assigned to station 101, with contacts
    observer_link     (SignInLink, raw token) of `observer`
    observer_client   a Client signed in as `observer` through `observer_link`
    other_observer    "Ёж", assigned to station 201, signed in by `other_observer_client`
    moderator         a staff user (no password: use client.force_login), `moderator_client`
    remote_addr       a fresh random IPv4 address: pass as REMOTE_ADDR so rate limits of one
                      test (kept in Redis across runs) never hit another
    report_form_data  report_form_data(**overrides) -> dict: a valid POST of the incident
                      form (/report/ or /citizen/) at station 101, category V1, new UUID
    language          language(client, "en") makes the client's later requests English
    jpeg_bytes        jpeg_bytes(size=(8, 8), exif=None) -> bytes of a small valid JPEG

Every test writes evidence files to its own temporary MEDIA_ROOT and PRIVATE_MEDIA_ROOT.
Transactional tests (live_server, transaction=True) get the categories reloaded first,
because the flush after an earlier transactional test removes migration data.
"""

import datetime as dt
import importlib
import os
import random
import uuid
from dataclasses import dataclass
from io import BytesIO

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from PIL import Image

from reports.forms.reports import categories_forget
from reports.models import Category, Election, LegalStatus, Okrug, SignInLink, Station, Tik, Trust
from reports.services.observers import observer_create, signin_link_issue
from reports.services.signin import (
    SEND_KEY_SESSION_KEY,
    SIGNIN_LINK_SESSION_KEY,
    send_key_issue,
    sender_copies_forget,
    signin_session_record,
)

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls
# from such threads unless told the caller knows what it is doing.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@dataclass(frozen=True)
class SignedInLink:
    link: SignInLink
    token: str


def categories_load() -> None:
    """(Re)load the categories with the data migration's own function (idempotent)."""
    migration = importlib.import_module("reports.migrations.0002_load_categories")
    migration.load_categories(apps, None)
    categories_forget()


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _sender_copies_fresh():
    """Each test's elections and stations, not a copy from an earlier test's rolled-back
    rows that had the same ids (services.signin)."""
    sender_copies_forget()


@pytest.fixture(autouse=True)
def _categories_after_flush(request):
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        categories_load()


@pytest.fixture
def categories(db) -> dict[str, Category]:
    return {category.code: category for category in Category.objects.all()}


@pytest.fixture
def election(db) -> Election:
    return Election.objects.create(
        name="Тестовые выборы", date=timezone.localdate(), time_zone="Europe/Moscow"
    )


@pytest.fixture
def stations(election) -> dict[int, Station]:
    central = Okrug.objects.create(election=election, name="ЦАО")
    north = Okrug.objects.create(election=election, name="САО")
    arbat = Tik.objects.create(okrug=central, name="Арбат")
    airport = Tik.objects.create(okrug=north, name="Аэропорт")
    layout = [(101, arbat, False), (102, arbat, False), (201, airport, False)]
    layout.append((3601, airport, True))
    return {
        number: Station.objects.create(
            election=election,
            okrug=tik.okrug,
            tik=tik,
            number=number,
            is_temporary=temporary,
            address=f"ул. Тестовая, {number}",
        )
        for number, tik, temporary in layout
    }


@pytest.fixture
def observer(stations):
    return observer_create(
        election=stations[101].election,
        pseudonym="Сова",
        legal_status=LegalStatus.OBSERVER,
        trust=Trust.TRAINED,
        stations=[stations[101]],
        full_name="Иванова Мария Петровна",
        phone="+7 900 000-00-01",
    )


@pytest.fixture
def other_observer(stations):
    return observer_create(
        election=stations[201].election,
        pseudonym="Ёж",
        legal_status=LegalStatus.CONSULTATIVE,
        stations=[stations[201]],
        full_name="Петров Пётр",
        phone="+7 900 000-00-02",
    )


@pytest.fixture
def observer_link(observer) -> SignedInLink:
    link, token = signin_link_issue(observer=observer)
    return SignedInLink(link=link, token=token)


def client_signed_in(link: SignInLink) -> Client:
    """A client whose session is what signing in through `link` leaves behind."""
    client = Client()
    client.force_login(link.observer.user)
    session = client.session
    session[SIGNIN_LINK_SESSION_KEY] = link.pk
    session.save()
    record = signin_session_record(link=link, session_key=session.session_key)
    session[SEND_KEY_SESSION_KEY] = send_key_issue(record)
    session.save()
    return client


@pytest.fixture
def observer_client(observer_link) -> Client:
    return client_signed_in(observer_link.link)


@pytest.fixture
def other_observer_client(other_observer) -> Client:
    link, _token = signin_link_issue(observer=other_observer)
    return client_signed_in(link)


@pytest.fixture
def moderator(db):
    user = get_user_model().objects.create_user(username="moderator", is_staff=True)
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def moderator_client(moderator) -> Client:
    client = Client()
    client.force_login(moderator)
    return client


@pytest.fixture
def remote_addr() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def election_day_noon(election) -> dt.datetime:
    """Noon on election day in the election's zone (aware)."""
    return dt.datetime.combine(election.date, dt.time(12, 0), tzinfo=election.tz)


@pytest.fixture
def report_form_data(stations, categories):
    def build(**overrides) -> dict:
        data = {
            "uuid": str(uuid.uuid4()),
            "station": "other",
            "station_number": "101",
            "category": "V1",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "description": "Пачка бюллетеней в урне №2",
            "count": "12",
        }
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}

    return build


@pytest.fixture
def language():
    def switch(client: Client, code: str) -> Client:
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = code
        return client

    return switch


@pytest.fixture
def jpeg_bytes():
    def make(size: tuple[int, int] = (8, 8), exif: Image.Exif | None = None) -> bytes:
        out = BytesIO()
        image = Image.new("RGB", size, "red")
        image.save(out, "JPEG", **({"exif": exif} if exif is not None else {}))
        return out.getvalue()

    return make
