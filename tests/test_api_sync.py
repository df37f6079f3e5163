"""Incremental sync: a partner mirrors the data page by page while it changes, and ends with
exactly what the API shows, having received each version of a row once."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from reports.models import Incident, Report, TokenScope
from reports.services.incidents import incident_reject

from .api_helpers import client, report_send, token, verify
from .moderation_fixtures import staff_user


@pytest.fixture(autouse=True)
def _no_settling(settings):
    settings.API_SYNC_SETTLE_SECONDS = 0


class Mirror:
    """What a partner keeps: rows by id, and every (id, updated_at) it was sent."""

    def __init__(self, api, path: str) -> None:
        self.api, self.url = api, f"{path}?changed_since=&page_size=2"
        self.rows: dict[int, dict] = {}
        self.versions: list[tuple[int, str]] = []

    def page(self) -> int:
        body = self.api.get(self.url).json()
        for record in body["results"]:
            self.rows[record["id"]] = record
            self.versions.append((record["id"], record["updated_at"]))
        for pk in body["removed"]:
            self.rows.pop(pk, None)
        self.url = body["next"]
        return len(body["results"]) + len(body["removed"])

    def catch_up(self) -> None:
        while self.page():
            pass


def api_rows(api, path: str) -> dict[int, dict]:
    rows, url = {}, f"{path}?page_size=1000"
    while url:
        body = api.get(url).json()
        rows.update({record["id"]: record for record in body["results"]})
        url = body["next"]
    return rows


def test_mirror_has_no_gaps_or_duplicates_while_data_changes(stations, observer, moderator):
    api = client(token(TokenScope.FULL_READ))
    first = [report_send(stations[number], "V1", observer) for number in (101, 102, 201)]
    mirror = Mirror(api, "/api/v1/reports/")

    mirror.page()  # two of three rows
    verify(first[0], moderator)  # a row already sent changes
    report_send(stations[3601], "V6", observer)  # a new row
    mirror.page()
    first[2].description = "уточнение"
    first[2].save()  # a row not yet sent changes
    mirror.catch_up()

    assert mirror.rows == api_rows(api, "/api/v1/reports/")
    assert len(mirror.versions) == len(set(mirror.versions))


@pytest.mark.parametrize("path", ["incidents", "reports"])
def test_rows_that_leave_the_public_view_are_listed_as_removed(stations, observer, moderator, path):
    api = client()
    report = report_send(stations[101], "V1", observer)
    incident = verify(report, moderator)
    mirror = Mirror(api, f"/api/v1/{path}/")
    mirror.catch_up()
    assert set(mirror.rows) == {incident.pk if path == "incidents" else report.pk}

    incident_reject(incident=Incident.objects.get(pk=incident.pk), actor=moderator, reason="дубль")
    mirror.catch_up()

    assert mirror.rows == {}


def test_rows_with_the_same_change_time_are_neither_skipped_nor_repeated(stations, observer):
    api = client(token(TokenScope.FULL_READ))
    reports = [report_send(stations[101], "V1", observer, description=str(n)) for n in range(5)]
    same_moment = timezone.now() - dt.timedelta(seconds=1)
    Report.objects.update(updated_at=same_moment)
    mirror = Mirror(api, "/api/v1/reports/")

    mirror.page()
    Report.objects.filter(pk=reports[0].pk).update(updated_at=timezone.now())
    mirror.catch_up()

    assert sorted(mirror.rows) == sorted(report.pk for report in reports)
    assert len(mirror.versions) == len(set(mirror.versions))


def test_rows_still_settling_wait_for_the_next_pass(stations, observer, settings):
    settings.API_SYNC_SETTLE_SECONDS = 60
    api = client(token(TokenScope.FULL_READ))
    old = report_send(stations[101], "V1", observer)
    Report.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=5))
    report_send(stations[102], "V1", observer)

    body = api.get("/api/v1/reports/?changed_since=").json()

    assert [record["id"] for record in body["results"]] == [old.pk]


def test_a_malformed_cursor_is_a_400(db):
    response = client().get("/api/v1/incidents/?changed_since=%%%")

    assert response.status_code == 400
    assert "changed_since" in response.json()


def test_a_partner_may_start_from_a_point_in_time(stations, observer, moderator):
    api = client()
    early = verify(report_send(stations[101], "V1", observer), moderator)
    Incident.objects.filter(pk=early.pk).update(updated_at=timezone.now() - dt.timedelta(hours=2))
    late = verify(report_send(stations[201], "V1", observer), moderator)
    since = (timezone.now() - dt.timedelta(hours=1)).isoformat()

    body = api.get("/api/v1/incidents/", {"changed_since": since}).json()

    assert [record["id"] for record in body["results"]] == [late.pk]


def test_the_public_never_learns_of_rows_it_could_not_see(stations, observer, moderator):
    """Neither in `removed` nor in the cursor's time: filters apply to what the caller may
    see, not to every row."""
    public = client()
    verify(report_send(stations[101], "V1", observer), moderator)
    Incident.objects.update(updated_at=timezone.now() - dt.timedelta(hours=1))
    report_send(stations[201], "V4", observer)
    rejected = report_send(stations[102], "V5", observer).incident
    incident_reject(incident=rejected, actor=moderator, reason="не подтвердилось")

    for query in ("status=new", "status=rejected", "category=V4", "station=201"):
        url = f"/api/v1/incidents/?changed_since=&{query}"
        body = public.get(url).json()
        assert (body["results"], body["removed"]) == ([], []), query
        assert "changed_since=&" in body["next"], query  # no cursor: no hidden row's time
    reports = public.get("/api/v1/reports/?changed_since=&status=new").json()
    assert (reports["results"], reports["removed"]) == ([], [])


def test_a_limited_moderator_syncs_only_their_okrugs(stations, observer, moderator):
    sao = staff_user(None, "sao", okrugs=(stations[201].okrug,))
    sao.user_permissions.add(Permission.objects.get(codename="view_report"))
    api = client()
    api.force_login(sao)
    own = report_send(stations[201], "V1", observer)
    elsewhere = report_send(stations[101], "V1", observer)
    Report.objects.filter(pk=elsewhere.pk).update(updated_at=timezone.now())
    Incident.objects.filter(pk=elsewhere.incident_id).update(updated_at=timezone.now())

    for path, own_id in (("reports", own.pk), ("incidents", own.incident_id)):
        body = api.get(f"/api/v1/{path}/?changed_since=&page_size=10").json()
        assert [record["id"] for record in body["results"]] == [own_id], path
        assert body["removed"] == [], path
        follow = api.get(body["next"]).json()
        assert (follow["results"], follow["removed"]) == ([], []), path
