"""Signing observers in with their personal link or its short code.

Every session a link opens is recorded (SignInSession). Revoking the link signs those
sessions out in the same transaction and leaves a mark in each (SIGNIN_REVOKED_SESSION_KEY),
so that reports.middleware can say why at the next request; no request has to ask the
database whether its link still holds. A link stays usable until revoked: signing in again
from a new phone is the same link.

A signed-in phone also gets a *send key* (send_key_issue): the signed id of its SignInSession
row. The form's script sends incident reports with it in a header, to an endpoint that loads
no session (views.report_send): one query finds the observer and the station, so a report
costs two queries instead of four. The key holds exactly as long as its row: revoking the
link, signing out and signing in again on the phone delete the row.
"""

import functools
import hashlib
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
    most as long as a session lives."""
    return signing.dumps(record.pk, salt=SEND_KEY_SALT)


@dataclass(frozen=True)
class Sender:
    """Who a send key speaks for, and the station their report names, if it exists."""

    observer: Observer
    station_id: int | None


def send_key_session_id(key: str) -> int | None:
    """The SignInSession id a send key names, if its signature holds and it is not older
    than a session may live; whether that session still holds is send_key_sender's."""
    try:
        pk = signing.loads(key, salt=SEND_KEY_SALT, max_age=settings.SESSION_COOKIE_AGE)
    except signing.BadSignature:
        return None
    return pk if isinstance(pk, int) else None


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
    tables = {
        model.__name__: model._meta.db_table
        for model in (SignInSession, SignInLink, Observer, Election, Station, get_user_model())
    }
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
        JOIN {tables[get_user_model().__name__]} u ON u.id = o.user_id
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
