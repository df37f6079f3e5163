"""Every URL of the site, visited as every kind of caller, answers as this table says.

The URLs come from the resolver, so a new page cannot slip in unnoticed: a URL without a row
in EXPECTED fails `test_every_url_has_an_expected_answer`. Each row gives the status of a
GET by each role:

    anon        nobody signed in
    citizen     an anonymous visitor whose session has just sent a citizen report
    observer    an observer signed in with their personal link
    moderator   a moderator limited to another okrug than the one every object here is in
    coordinator a coordinator of every okrug
    public      a partner token of scope public_read (no session)
    full        a partner token of scope full_read
    submit      a partner token of scope submit

The objects in the URLs (an incident, a report and its evidence, a station, an export…) all
belong to okrug ЦАО; the moderator works on САО only. Admin pages of models this world has
no row of are visited with a missing id: staff who may see the model are sent back to the
list (302), others refused (403).
"""

import random
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from reports.domain.protocol_checks import template_load
from reports.models import (
    AuditEntry,
    Category,
    Election,
    LegalStatus,
    Okrug,
    Station,
    Tally,
    Tik,
    TokenScope,
)
from reports.services.aggregation import reports_aggregate
from reports.services.exports import export_start
from reports.services.incidents import evidence_download_log, incident_escalate, question_ask
from reports.services.observers import observer_create, signin_link_issue
from reports.services.partners import partner_token_create
from reports.services.protocols import (
    ProtocolCopyInput,
    TurnoutInput,
    protocol_copy_submit,
    turnout_count_submit,
)
from reports.services.submission import ReportInput, report_submit

from .conftest import client_signed_in
from .moderation_fixtures import evidence_make, staff_user
from .test_protocol_copy import KEYS, LINES

ROLES = ("anon", "citizen", "observer", "moderator", "coordinator", "public", "full", "submit")


def row(*statuses: int) -> dict[str, int]:
    assert len(statuses) == len(ROLES)
    return dict(zip(ROLES, statuses, strict=True))


def same(status: int) -> dict[str, int]:
    return row(*[status] * len(ROLES))


def staff_only(moderator: int, coordinator: int) -> dict[str, int]:
    """An admin page: everyone not staff is sent to the admin's sign-in page."""
    return row(302, 302, 302, moderator, coordinator, 302, 302, 302)


OBSERVER_ONLY = row(302, 302, 200, 302, 302, 302, 302, 302)

# Admin pages per model: (changelist, add, change, delete, history) for the okrug-limited
# moderator, then the same for the coordinator. The unnamed <id>/ page of every model
# redirects to its change page, for everyone (302).
MODELS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    # Accounts and partners: the administrator's.
    "auth_group": ((403, 403, 403, 403, 403), (403, 403, 403, 403, 403)),
    "auth_user": ((403, 403, 403, 403, 403), (403, 403, 403, 403, 403)),
    "reports_partnertoken": ((403, 403, 403, 403, 403), (403, 403, 403, 403, 403)),
    "reports_exportjob": ((403, 403, 403, 403, 403), (403, 403, 403, 403, 403)),
    # The moderation panel: read-only lists; the object in ЦАО is hidden from the moderator
    # of САО (302: "does not exist"). Nobody adds or deletes here.
    "reports_incident": ((200, 403, 302, 403, 302), (200, 403, 200, 403, 200)),
    "reports_report": ((200, 403, 302, 403, 302), (200, 403, 200, 403, 200)),
    "reports_evidence": ((200, 403, 302, 403, 302), (200, 403, 200, 403, 200)),
    "reports_auditentry": ((200, 403, 302, 403, 302), (200, 403, 200, 403, 200)),
    "reports_escalation": ((200, 403, 302, 403, 302), (200, 403, 200, 403, 200)),
    "reports_observer": ((200, 403, 302, 403, 302), (200, 403, 200, 403, 200)),
    "reports_okrug": ((200, 403, 302, 403, 302), (200, 403, 200, 403, 200)),
    "reports_tik": ((200, 403, 302, 403, 302), (200, 403, 200, 403, 200)),
    "reports_station": ((200, 403, 302, 403, 302), (200, 403, 200, 403, 200)),
    "reports_election": ((200, 403, 200, 403, 200), (200, 403, 200, 403, 200)),
    "reports_category": ((200, 403, 200, 403, 200), (200, 403, 200, 403, 200)),
    # Contacts and the chain of custody: coordinators only.
    "reports_observercontact": ((403, 403, 403, 403, 302), (200, 403, 200, 403, 200)),
    "reports_evidenceaccess": ((403, 403, 403, 403, 302), (200, 403, 200, 403, 200)),
    "reports_assignment": ((403, 403, 403, 403, 302), (200, 200, 200, 200, 200)),
    # Coverage, counts and protocols (role groups since 39e7b0a). Rows this world has none
    # of are visited with a missing id (302). The counts and copies at ЦАО's station are
    # hidden from the moderator of САО like every other okrug's row.
    "reports_coveragerules": ((403, 403, 403, 403, 302), (200, 403, 302, 403, 302)),
    "reports_dispatch": ((200, 403, 302, 403, 302), (200, 403, 302, 403, 302)),
    "reports_mobilegroup": ((200, 403, 302, 403, 302), (200, 200, 302, 403, 302)),
    # Who is told of alerts: coordinators subscribe addresses; nobody deletes.
    "reports_alertsubscription": ((403, 403, 403, 403, 302), (200, 200, 302, 403, 302)),
    "reports_turnoutcount": ((200, 403, 302, 403, 302), (200, 403, 200, 403, 200)),
    "reports_protocolcopy": ((200, 403, 302, 403, 302), (200, 403, 200, 403, 200)),
    "reports_officialresult": ((200, 403, 302, 403, 302), (200, 403, 302, 403, 302)),
    "reports_resultsimport": ((200, 403, 302, 403, 302), (200, 403, 302, 403, 302)),
    "reports_resulttotal": ((200, 403, 302, 403, 302), (200, 403, 302, 403, 302)),
    "reports_stationflag": ((200, 403, 302, 403, 302), (200, 403, 302, 403, 302)),
    "reports_stationreconciliation": ((200, 403, 302, 403, 302), (200, 403, 302, 403, 302)),
    "reports_statisticsrun": ((200, 403, 302, 403, 302), (200, 403, 302, 403, 302)),
    # Quick-count samples: coordinators draw them (add goes to the draw page); nobody edits.
    "reports_quickcountsample": ((200, 403, 302, 403, 302), (200, 302, 302, 403, 302)),
}

#                    anon citizen observer moderator coordinator public full submit
EXPECTED: dict[str, dict[str, int]] = {
    "healthz": same(200),
    "(unnamed) favicon.ico": same(301),
    "set_language": same(302),
    # The admin's own pages.
    "admin:index": staff_only(200, 200),
    "admin:login": row(200, 200, 200, 302, 302, 200, 200, 200),
    "admin:logout": staff_only(405, 405),
    "admin:password_change": staff_only(200, 200),
    "admin:password_change_done": staff_only(200, 200),
    "admin:autocomplete": staff_only(403, 403),
    "admin:jsi18n": staff_only(200, 200),
    "admin:view_on_site": staff_only(404, 404),
    "admin:app_list": staff_only(200, 200),
    "(unnamed) admin/(?P<url>.*)$": staff_only(404, 404),
    "admin:auth_user_password_change": staff_only(403, 403),
    # The moderation panel's own pages.
    "admin:reports_dashboard": staff_only(200, 200),
    "admin:reports_dashboard_data": staff_only(200, 200),
    "admin:reports_incident_decide": staff_only(405, 405),
    "admin:reports_incident_complaint": staff_only(403, 403),
    "admin:reports_evidence_original": staff_only(404, 200),
    "admin:reports_station_import": staff_only(403, 200),
    "admin:reports_observer_import": staff_only(403, 200),
    "admin:reports_quickcountsample_draw": staff_only(403, 200),
    # The API. Public records for everyone; tallies and alerts need full read (and are
    # hidden from the moderator when they count another okrug); exports
    # belong to whoever started them (the coordinator here, not yet done).
    "api:incident-list": same(200),
    "api:incident-detail": row(404, 404, 404, 404, 200, 404, 200, 404),
    "api:report-list": same(200),
    "api:report-detail": row(404, 404, 404, 404, 200, 404, 200, 404),
    "api:station-list": same(200),
    "api:station-detail": same(200),
    "api:category-list": same(200),
    "api:category-detail": same(200),
    "api:tally-list": row(401, 401, 403, 200, 200, 403, 200, 403),
    "api:tally-detail": row(401, 401, 403, 404, 200, 403, 200, 403),
    "api:alert-list": row(401, 401, 403, 200, 200, 403, 200, 403),
    "api:alert-detail": row(401, 401, 403, 404, 200, 403, 200, 403),
    "api:export-list": row(401, 401, 405, 405, 405, 405, 405, 405),
    "api:export-detail": row(401, 401, 404, 404, 200, 404, 404, 404),
    "api:export-download": row(401, 401, 404, 404, 404, 404, 404, 404),
    "api:json-schema": same(200),
    "api:schema": same(200),
    "api:docs": same(200),
    "exports:new": staff_only(200, 200),
    "exports:status": staff_only(404, 200),
    # Counts and protocols: observers' forms; results and statistics for staff with the
    # protocol permissions (no statistics run yet: its JSON is 404); POST-only actions.
    "protocols:turnout_new": OBSERVER_ONLY,
    "protocols:copy_new": OBSERVER_ONLY,
    "protocols:mine": OBSERVER_ONLY,
    "protocols:copy_photo": staff_only(404, 200),
    "protocols:copy_original": staff_only(404, 200),
    "protocols:results": staff_only(200, 200),
    "protocols:results_json": staff_only(200, 200),
    "protocols:results_refresh": same(405),
    "protocols:statistics": staff_only(200, 200),
    "protocols:statistics_json": staff_only(404, 404),
    "protocols:statistics_request": same(405),
    # The quick count (no sample drawn yet: its JSON is 404); partners with full read too.
    "protocols:quickcount": staff_only(200, 200),
    "protocols:quickcount_json": row(401, 401, 403, 404, 404, 403, 404, 403),
    # Coverage: coordinators' pages; observers' check-in.
    "coverage:checkin": OBSERVER_ONLY,
    "coverage:checkin_left": same(405),
    "coverage:page": staff_only(403, 200),
    "coverage:data": staff_only(403, 200),
    "coverage:groups": staff_only(200, 200),
    "coverage:group_dispatch": same(405),
    "coverage:dispatch_update": same(405),
    # The volunteer pages.
    "reports:home": same(200),
    "reports:signin": same(200),
    "reports:signin_token": same(404),
    "reports:signout": same(405),
    "reports:report_new": OBSERVER_ONLY,
    "reports:report_send": same(405),
    "reports:my_reports": OBSERVER_ONLY,
    "reports:questions_json": OBSERVER_ONLY,
    "reports:report_detail": OBSERVER_ONLY,
    "reports:question_answer": same(405),
    "reports:citizen_new": same(200),
    "reports:citizen_thanks": same(200),
    "reports:service_worker": same(200),
    # The public pages: anyone (the front page is the city page unless signed in).
    "front": same(200),
    "public:city": same(200),
    "public:okrug": same(200),
    "public:station_search": same(302),
    "public:station": same(200),
    "public:feed": same(200),
}


def admin_rows() -> dict[str, dict[str, int]]:
    rows = {}
    for model, (moderator, coordinator) in MODELS.items():
        for page, mod, coord in zip(
            ("changelist", "add", "change", "delete", "history"), moderator, coordinator,
            strict=True,
        ):  # fmt: skip
            rows[f"admin:{model}_{page}"] = staff_only(mod, coord)
        rows[unnamed(f"admin/{model.replace('_', '/', 1)}/<path:object_id>/")] = same(302)
    return rows


# World


@dataclass
class World:
    kwargs: dict[str, object]  # URL name: its one parameter's value, or all as a dict
    tokens: dict[str, str]
    observer_link: object
    moderator: object
    coordinator: object
    media: Path
    clients: dict[str, Client] | None = None


def address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def world_build(media: Path) -> World:
    election = Election.objects.create(
        name="Матрица доступа",
        date=timezone.localdate(),
        protocol_template=template_load("federal-12", ["Иванов", "Петров"]),
    )
    here = Okrug.objects.create(election=election, name="ЦАО")
    elsewhere = Okrug.objects.create(election=election, name="САО")
    tik = Tik.objects.create(okrug=here, name="Арбат")
    Tik.objects.create(okrug=elsewhere, name="Аэропорт")
    station = Station.objects.create(election=election, okrug=here, tik=tik, number=101)
    observer = observer_create(
        election=election,
        pseudonym="Сова",
        legal_status=LegalStatus.OBSERVER,
        stations=[station],
        phone="+7 900 000-00-01",
    )
    link, _token = signin_link_issue(observer=observer)
    moderator = staff_user("moderator", "moderator-sao", okrugs=(elsewhere,))
    coordinator = staff_user("coordinator", "coordinator")
    report, _created = report_submit(
        data=ReportInput(
            uuid=uuid.uuid4(), station=station, category=Category.objects.get(code="R4")
        ),
        observer=observer,
        channel="web",
    )
    reports_aggregate(report_ids=[report.pk])
    report.refresh_from_db()
    incident = report.incident
    escalation = incident_escalate(incident=incident, actor=coordinator, kind="lawyer")
    evidence = evidence_make(report)
    access = evidence_download_log(evidence=evidence, actor=coordinator)
    question = question_ask(report=report, actor=coordinator, text="Сколько бюллетеней?")
    turnout_count_submit(
        data=TurnoutInput(uuid.uuid4(), station, "10", own_tally=100, announced=110),
        observer=observer,
    )
    copy, _created = protocol_copy_submit(
        data=ProtocolCopyInput(
            uuid=uuid.uuid4(),
            station=station,
            lines=dict(zip(KEYS, LINES, strict=True)),
            photo=SimpleUploadedFile("copy.jpg", jpeg(), "image/jpeg"),
        ),
        observer=observer,
    )
    job = export_start(
        shape="incidents", fmt="csv", scope="public", filters={}, requested_by=coordinator
    )
    tokens = {scope: partner_token_create(name=scope, scope=scope) for scope in TokenScope.values}
    ids = {
        "auth_group": coordinator.groups.get().pk,
        "auth_user": observer.user.pk,
        "reports_incident": incident.pk,
        "reports_report": report.pk,
        "reports_evidence": evidence.pk,
        "reports_auditentry": AuditEntry.objects.latest("pk").pk,
        "reports_okrug": here.pk,
        "reports_tik": tik.pk,
        "reports_station": station.pk,
        "reports_observer": observer.pk,
        "reports_observercontact": observer.contact.pk,
        "reports_escalation": escalation.pk,
        "reports_evidenceaccess": access.pk,
        "reports_election": election.pk,
        "reports_category": "V1",
        "reports_turnoutcount": observer.turnout_counts.get().pk,
        "reports_protocolcopy": copy.pk,
        "reports_partnertoken": tokens[TokenScope.PUBLIC_READ][0].pk,
        "reports_exportjob": job.pk,
        "reports_assignment": observer.assignments.get().pk,
    }
    kwargs = {
        "api:incident-detail": incident.pk,
        "api:report-detail": report.pk,
        "api:station-detail": station.pk,
        "api:category-detail": "V1",
        "api:tally-detail": Tally.objects.filter(election=election).first().pk,
        "api:alert-detail": election.alerts.get().pk,
        "api:export-detail": job.pk,
        "api:export-download": job.pk,
        "api:json-schema": "incident",
        "exports:status": job.pk,
        "protocols:copy_photo": copy.uuid,
        "protocols:copy_original": copy.uuid,
        "reports:signin_token": "not-a-valid-token",
        "reports:report_detail": report.uuid,
        "reports:question_answer": question.pk,
        "admin:view_on_site": {"content_type_id": "0", "object_id": "0"},
        "admin:reports_incident_decide": {"object_id": incident.pk, "name": "verify"},
        "admin:reports_incident_complaint": incident.pk,
        "admin:reports_evidence_original": evidence.pk,
        "admin:auth_user_password_change": observer.user.pk,
        "coverage:dispatch_update": 999999,
        "public:okrug": here.pk,
        "public:station": station.number,
        "admin:app_list": "reports",
    }
    for model in MODELS:
        for page in ("change", "delete", "history"):
            kwargs[f"admin:{model}_{page}"] = ids.get(model, "999999")
    return World(
        kwargs=kwargs,
        tokens={scope: raw for scope, (_token, raw) in tokens.items()},
        observer_link=link,
        moderator=moderator,
        coordinator=coordinator,
        media=media,
    )


def jpeg() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction that is rolled back at its end."""
    media = tmp_path_factory.mktemp("access")
    storage = override_settings(PRIVATE_MEDIA_ROOT=media / "private", MEDIA_ROOT=media / "media")
    with django_db_blocker.unblock(), transaction.atomic():
        with storage:
            built = world_build(media)
            built.clients = clients_build(built)
        yield built
        transaction.set_rollback(True)


def clients_build(world: World) -> dict[str, Client]:
    """One client per role, signed in once; each test's changes to sessions roll back."""
    citizen = Client(REMOTE_ADDR=address())
    sent = citizen.post(
        "/citizen/",
        {
            "uuid": str(uuid.uuid4()),
            "station_number": "101",
            "category": "V1",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "description": "Вброс",
        },
    )
    assert sent.status_code == 302, "the citizen's report was not accepted"
    observer = client_signed_in(world.observer_link)
    observer.defaults["REMOTE_ADDR"] = address()
    moderator, coordinator = Client(REMOTE_ADDR=address()), Client(REMOTE_ADDR=address())
    moderator.force_login(world.moderator)
    coordinator.force_login(world.coordinator)
    clients = {"anon": Client(REMOTE_ADDR=address()), "citizen": citizen, "observer": observer}
    clients |= {"moderator": moderator, "coordinator": coordinator}
    for role, scope in {"public": "public_read", "full": "full_read", "submit": "submit"}.items():
        bearer = f"Bearer {world.tokens[scope]}"
        clients[role] = Client(REMOTE_ADDR=address(), HTTP_AUTHORIZATION=bearer)
    return clients


@pytest.fixture
def clients(world, db, settings) -> dict[str, Client]:
    settings.PRIVATE_MEDIA_ROOT = world.media / "private"
    settings.MEDIA_ROOT = world.media / "media"
    return world.clients


# URLs


def url_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(name, route) of every URL the resolver knows; unnamed ones by their route."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield (namespace + pattern.name if pattern.name else unnamed(route)), route


def unnamed(route: str) -> str:
    return f"(unnamed) {route}"


def url_for(name: str, route: str, world: World) -> str:
    from django.urls import reverse

    if name == unnamed(route):
        return "/" + route.replace("<path:object_id>", "1").replace("(?P<url>.*)$", "nothing/")
    values = world.kwargs.get(name)
    if values is not None and not isinstance(values, dict):
        # One parameter: whatever the route calls it.
        [parameter] = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)
        values = {"".join(parameter): values}
    return reverse(name, kwargs=values)


def test_every_url_has_an_expected_answer():
    known = {name for name, _route in url_patterns()}
    table = EXPECTED | admin_rows()
    assert sorted(known - table.keys()) == [], "URLs without a row in EXPECTED"
    assert sorted(table.keys() - known) == [], "rows of URLs that no longer exist"


@pytest.mark.parametrize(("name", "route"), sorted(set(url_patterns())))
def test_each_role_gets_the_expected_answer(name, route, world, clients):
    expected = (EXPECTED | admin_rows()).get(name)
    url = url_for(name, route, world)
    answers = {role: clients[role].get(url).status_code for role in ROLES}
    assert answers == expected, url
