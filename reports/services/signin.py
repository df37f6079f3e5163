"""Signing observers in with their personal link or its short code.

Every session a link opens is recorded (SignInSession). Revoking the link signs those
sessions out in the same transaction and leaves a mark in each (SIGNIN_REVOKED_SESSION_KEY),
so that reports.middleware can say why at the next request; no request has to ask the
database whether its link still holds. A link stays usable until revoked: signing in again
from a new phone is the same link.

A signed-in phone also gets a *send key* (send_key_issue): the signed ids of its SignInSession
row and of the observer and election it belongs to. The form's script sends incident reports
with it in a header, to an endpoint that loads no session (views.report_send): a plain report
is validated against copies of its election and stations, and stored by one statement that
also checks that the key's row still holds (report_submit); anything else takes the full
way, one query for the observer and the station (send_key_sender), then the form. The key
holds exactly as long as its row: revoking the link, signing out and signing in again on the
phone delete the row.
"""

import functools
import hashlib
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone

from reports.models import Election, Observer, SignInLink, SignInSession, Station
from reports.prepared import prepared_cursor

SIGNIN_LINK_SESSION_KEY = "signin_link_id"
SIGNIN_REVOKED_SESSION_KEY = "signin_link_revoked"
SEND_KEY_SESSION_KEY = "send_key"
SEND_KEY_SALT = "reports.send-key"


@transaction.atomic
def signin_link_use(*, token: str = "", code: str = "") -> SignInLink | None:
    """Find the active link for a raw token or a short code and note its use; None if unknown
    or revoked."""
    if token:
        lookup = {"token_hash": token_hash(token)}
    elif code:
        lookup = {"short_code": short_code_normalise(code)}
    else:
        return None
    link = (
        SignInLink.objects.select_related("observer__user")
        .filter(revoked_at__isnull=True, observer__user__is_active=True, **lookup)
        .first()
    )
    if link is not None:
        SignInLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    return link


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def short_code_normalise(code: str) -> str:
    return "".join(code.split()).upper().replace("-", "")


def signin_session_record(*, link: SignInLink, session_key: str) -> SignInSession:
    """Remember that this link opened this session; call right after logging in."""
    return SignInSession.objects.create(link=link, session_key=session_key)


def signin_session_forget(*, session_key: str | None) -> int:
    """The session is signing out or in again: its record, and with it its send key, ends."""
    if not session_key:
        return 0
    deleted, _by_model = SignInSession.objects.filter(session_key=session_key).delete()
    return deleted


def signin_sessions_expire(*, now: datetime | None = None) -> int:
    """Housekeeping: delete expired sessions (Django's clear_expired) and the records of
    sessions older than a session may live, whose send keys have expired with them; return
    how many records went."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    deleted, _by_model = SignInSession.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def send_key_issue(record: SignInSession) -> str:
    """The key a phone's script sends reports with: valid while `record` exists, and at
    most as long as a session lives. It names the record and the observer and election the
    record belongs to, which never change for a record."""
    observer = record.link.observer
    return signing.dumps([record.pk, observer.pk, observer.election_id], salt=SEND_KEY_SALT)


@dataclass(frozen=True)
class SendKey:
    """What a send key names. Keys issued before they named the observer and election
    (until issue 18) name only the record, and take the full way (send_key_sender)."""

    session_id: int
    observer_id: int | None = None
    election_id: int | None = None


def send_key_read(key: str) -> SendKey | None:
    """What a send key names, if its signature holds and it is not older than a session may
    live; whether that session still holds is for the query that uses it."""
    try:
        value = signing.loads(key, salt=SEND_KEY_SALT, max_age=settings.SESSION_COOKIE_AGE)
    except signing.BadSignature:
        return None
    if type(value) is int:
        return SendKey(value)
    if type(value) is list and len(value) == 3 and all(type(item) is int for item in value):
        return SendKey(*value)
    return None


# The send key's way of one round trip (views.report_send) validates a report against its
# election's day and zone and finds its station by number from copies kept per process for
# this long; a change of an election in the admin clears this process's copy at once
# (apps.py), and a station added since the copy was made takes the full way.
SENDER_COPY_SECONDS = 60
_sender_copy: dict[int, tuple[float, Election | None, dict[int, int]]] = {}


def sender_election(election_id: int) -> tuple[Election | None, dict[int, int]]:
    """The election (None if it is gone) and its station ids by number, from this
    process's copy."""
    loaded_at, election, stations = _sender_copy.get(election_id, (-SENDER_COPY_SECONDS, None, {}))
    if time.monotonic() - loaded_at >= SENDER_COPY_SECONDS:
        election = Election.objects.filter(pk=election_id).first()
        stations = dict(Station.objects.filter(election_id=election_id).values_list("number", "pk"))
        _sender_copy[election_id] = (time.monotonic(), election, stations)
    return election, stations


def sender_copies_forget(**kwargs) -> None:
    _sender_copy.clear()


def send_key_holds_sql() -> tuple[str, str]:
    """FROM and WHERE clauses that find the observer `o` of a send key's record while it
    holds (its link not revoked, its user active), with the record's id and the observer's
    id as their parameters, in that order: report_submit's INSERT … SELECT checks the key
    in the statement that stores the report."""
    tables = _tables()
    return (
        f"""{tables["SignInSession"]} ss
        JOIN {tables["SignInLink"]} l ON l.id = ss.link_id
        JOIN {tables["Observer"]} o ON o.id = l.observer_id
        JOIN {tables["User"]} u ON u.id = o.user_id""",
        "ss.id = %s AND o.id = %s AND l.revoked_at IS NULL AND u.is_active",
    )


def _tables() -> dict[str, str]:
    models = (SignInSession, SignInLink, Observer, Election, Station)
    tables = {model.__name__: model._meta.db_table for model in models}
    tables["User"] = get_user_model()._meta.db_table
    return tables


@dataclass(frozen=True)
class Sender:
    """Who a send key speaks for, and the station their report names, if it exists."""

    observer: Observer
    station_id: int | None


def send_key_sender(session_id: int, *, station_number: int | None) -> Sender | None:
    """The observer whose SignInSession this is (with their election's zone and day loaded)
    and the id of the station numbered `station_number` in their election; None when the
    session has ended, the link was revoked or the user deactivated.

    One query, written out and prepared (reports.prepared): the ORM spent more time building
    it, and PostgreSQL more time planning it, than PostgreSQL spent answering it, on the path
    every report takes.
    """
    row = _sender_row([station_number, session_id])
    if row is None:
        return None
    observer = Observer.from_db(connection.alias, SENDER_OBSERVER_FIELDS, row[:6])
    day = row[7] if isinstance(row[7], date) else date.fromisoformat(row[7])  # SQLite: text
    observer.election = Election.from_db(
        connection.alias, ["id", "date", "time_zone"], (row[2], day, row[6])
    )  # in the model's field order, as from_db wants
    return Sender(observer=observer, station_id=row[8])


def _sender_row(params: list) -> tuple | None:
    with prepared_cursor() as cursor:
        cursor.execute(_sender_sql(), params)
        return cursor.fetchone()


# The observer's columns _sender_sql reads: none needs a database converter.
SENDER_OBSERVER_FIELDS = ["id", "user_id", "election_id", "pseudonym", "legal_status", "trust"]


@functools.cache
def _sender_sql() -> str:
    tables = _tables()
    # Table names come from the models, values only from parameters.
    return f"""
        SELECT o.id, o.user_id, o.election_id, o.pseudonym, o.legal_status, o.trust,
               e.time_zone AS election_tz, e.date AS election_day,
               (SELECT s.id FROM {tables["Station"]} s
                WHERE s.election_id = o.election_id AND s.number = %s) AS station_id
        FROM {tables["SignInSession"]} ss
        JOIN {tables["SignInLink"]} l ON l.id = ss.link_id
        JOIN {tables["Observer"]} o ON o.id = l.observer_id
        JOIN {tables["Election"]} e ON e.id = o.election_id
        JOIN {tables["User"]} u ON u.id = o.user_id
        WHERE ss.id = %s AND l.revoked_at IS NULL AND u.is_active
    """  # noqa: S608


@transaction.atomic
def signin_sessions_end(*, link: SignInLink) -> int:
    """Sign out every session this link opened; return how many were still open.

    Each session loses its login and keeps a mark that its link was revoked. A session
    that has since ended, or that signed in again with another link, is left alone.
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for record in SignInSession.objects.filter(link=link).select_for_update():
        store = store_class(session_key=record.session_key)
        if store.get(SIGNIN_LINK_SESSION_KEY) == link.pk:
            for key in (SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY):
                store.pop(key, None)
            del store[SIGNIN_LINK_SESSION_KEY]
            store[SIGNIN_REVOKED_SESSION_KEY] = True
            store.save()
            ended += 1
    SignInSession.objects.filter(link=link).delete()
    return ended
