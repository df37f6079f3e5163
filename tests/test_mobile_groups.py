"""Mobile groups: a moderator sends a group to an incident; its trip (dispatched, on site,
done) and notes are kept with the incident, in the audit log and on the groups' board."""

import pytest
from django.contrib.auth.models import Permission

from reports.models import AuditEntry, Dispatch, MobileGroup, ReviewStatus
from reports.services.coverage import CoverageRefused
from reports.services.mobile_groups import dispatch_update, group_dispatch, mobile_group_save

from .moderation_fixtures import client_for, incident_make, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(stations):
    return staff_user("moderator", "moderator")


@pytest.fixture
def group(stations, moderator):
    return mobile_group_save(
        group=MobileGroup(
            okrug=stations[101].okrug, name="МГ-1", car="Лада, А123ВС", members="Иван, Пётр"
        ),
        actor=moderator,
    )


@pytest.fixture
def incident(stations, categories):
    return incident_make(stations[101], categories["V1"], needs_mobile_group=True)


def test_a_moderator_sends_a_group_to_an_incident(group, incident, moderator, stations):
    dispatch = group_dispatch(group=group, incident=incident, actor=moderator, note="Едем")
    group.refresh_from_db()
    assert (dispatch.status, dispatch.station, dispatch.dispatched_by) == (
        "dispatched",
        stations[101],
        moderator,
    )
    assert (group.status, group.station) == ("dispatched", stations[101])


def test_the_trip_is_in_the_incidents_audit_log(group, incident, moderator):
    group_dispatch(group=group, incident=incident, actor=moderator, note="Едем")
    entry = AuditEntry.objects.get(object_type="incident", object_id=str(incident.pk))
    assert (entry.action, entry.actor, entry.note) == ("group_dispatch", moderator, "Едем")
    assert entry.after["group"] == "МГ-1"


def test_a_group_on_a_trip_cannot_be_sent_again(group, incident, moderator, stations, categories):
    group_dispatch(group=group, incident=incident, actor=moderator)
    other = incident_make(stations[102], categories["V2"], needs_mobile_group=True)
    with pytest.raises(CoverageRefused):
        group_dispatch(group=group, incident=other, actor=moderator)
    assert Dispatch.objects.count() == 1


def test_the_group_arrives_and_finishes_and_its_notes_are_kept(
    group, incident, moderator, stations
):
    dispatch = group_dispatch(group=group, incident=incident, actor=moderator, note="Едем")
    dispatch_update(dispatch=dispatch, status="on_site", actor=moderator, note="На месте")
    dispatch = dispatch_update(dispatch=dispatch, status="done", actor=moderator, note="Вброс")
    group.refresh_from_db()
    assert [line.split(" ", 1)[1] for line in dispatch.notes.splitlines()] == [
        "Едем",
        "На месте",
        "Вброс",
    ]
    assert dispatch.on_site_at is not None and dispatch.done_at is not None
    assert (group.status, group.station) == ("available", stations[101])
    actions = AuditEntry.objects.filter(object_type="incident").values_list("action", flat=True)
    assert sorted(actions) == ["dispatch_update", "dispatch_update", "group_dispatch"]


def test_a_trip_does_not_go_back(group, incident, moderator):
    dispatch = group_dispatch(group=group, incident=incident, actor=moderator)
    dispatch_update(dispatch=dispatch, status="on_site", actor=moderator)
    with pytest.raises(CoverageRefused):
        dispatch_update(dispatch=dispatch, status="dispatched", actor=moderator)


def test_a_moderator_of_another_okrug_cannot_send_the_group(group, incident, stations):
    north = staff_user("moderator", "north", okrugs=(stations[201].okrug,))
    with pytest.raises(CoverageRefused):
        group_dispatch(group=group, incident=incident, actor=north)
    assert not Dispatch.objects.exists()


def test_nobody_is_sent_to_a_rejected_incident(group, incident, moderator):
    incident.status = ReviewStatus.REJECTED
    incident.save()
    with pytest.raises(CoverageRefused):
        group_dispatch(group=group, incident=incident, actor=moderator)


def test_the_board_shows_where_a_group_is_needed(group, incident, moderator):
    page = client_for(moderator).get("/coverage/groups/").content.decode()
    assert f'data-incident="{incident.pk}"' in page
    assert "МГ-1" in page


def test_dispatching_from_the_board(group, incident, moderator):
    client = client_for(moderator)
    response = client.post(
        "/coverage/groups/dispatch/",
        {"incident": incident.pk, "group": group.pk, "note": "Срочно"},
        follow=True,
    )
    assert "МГ-1 отправлена на участок 101" in response.content.decode()
    dispatch = Dispatch.objects.get()
    assert (dispatch.group, dispatch.incident) == (group, incident)
    assert f'data-incident="{incident.pk}"' not in response.content.decode()


def test_moving_a_trip_on_from_the_board(group, incident, moderator):
    dispatch = group_dispatch(group=group, incident=incident, actor=moderator)
    client = client_for(moderator)
    client.post(f"/coverage/trips/{dispatch.pk}/", {"status": "on_site", "note": "Приехали"})
    dispatch.refresh_from_db()
    assert dispatch.status == "on_site"
    assert dispatch.notes.endswith("Приехали")


def test_staff_without_a_role_cannot_open_the_board(stations):
    nobody = staff_user(None, "visitor")
    assert client_for(nobody).get("/coverage/groups/").status_code == 403


def test_who_may_only_look_sees_the_board_but_cannot_send_a_group(group, incident):
    viewer = staff_user(None, "viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_incident"))
    client = client_for(viewer)
    page = client.get("/coverage/groups/").content.decode()
    assert f'data-incident="{incident.pk}"' in page and 'name="dispatch"' not in page
    response = client.post(
        "/coverage/groups/dispatch/", {"incident": incident.pk, "group": group.pk}
    )
    assert response.status_code == 403
    assert not Dispatch.objects.exists()


def test_members_names_stay_out_of_the_audit_log(group):
    entry = AuditEntry.objects.get(action="mobile_group_save")
    assert "Иван" not in str(entry.after)
    assert entry.after["members_changed"] is True


@pytest.fixture
def northern_group(stations, moderator):
    return mobile_group_save(
        group=MobileGroup(okrug=stations[201].okrug, name="МГ-Север", car="УАЗ"),
        actor=moderator,
    )


def test_the_stations_own_okrug_groups_are_offered_first_with_their_load(
    group, northern_group, incident, moderator
):
    page = client_for(moderator).get("/coverage/groups/").content.decode()
    row = page.split(f'data-incident="{incident.pk}"')[1].split("</tr>")[0]
    assert row.index("МГ-1") < row.index("МГ-Север")
    assert "Other okrugs" in row or "Другие округа" in row
    assert "0 trips so far" in row or "0 выездов" in row


def test_sending_a_group_across_okrugs_asks_first(northern_group, incident, moderator):
    client = client_for(moderator)
    asked = client.post(
        "/coverage/groups/dispatch/", {"incident": incident.pk, "group": northern_group.pk}
    )
    assert asked.status_code == 200
    assert "САО" in asked.content.decode() and "ЦАО" in asked.content.decode()
    assert not Dispatch.objects.exists()

    client.post(
        "/coverage/groups/dispatch/",
        {"incident": incident.pk, "group": northern_group.pk, "across_okrugs": "on"},
    )
    dispatch = Dispatch.objects.get()
    assert dispatch.group == northern_group
    assert "confirmed" in dispatch.notes or "подтверждено" in dispatch.notes


def test_the_needed_list_puts_the_most_severe_first_and_pages_through_the_rest(
    group, moderator, stations, categories, monkeypatch
):
    monkeypatch.setattr("reports.views.coverage.NEEDED_SHOWN", 2)
    procedural = incident_make(stations[102], categories["V1"], severity="P", minutes_ago=50,
                               needs_mobile_group=True)  # fmt: skip
    critical = incident_make(stations[102], categories["V1"], severity="C", minutes_ago=5,
                             needs_mobile_group=True)  # fmt: skip
    serious = incident_make(stations[101], categories["V1"], severity="S", minutes_ago=40,
                            needs_mobile_group=True)  # fmt: skip
    client = client_for(moderator)
    first = client.get("/coverage/groups/").content.decode()
    second = client.get("/coverage/groups/?needed=2").content.decode()

    assert first.index(f'data-incident="{critical.pk}"') < first.index(
        f'data-incident="{serious.pk}"'
    )
    assert f'data-incident="{procedural.pk}"' not in first
    assert f'data-incident="{procedural.pk}"' in second
    assert "needed=2" in first
