"""The coordinators' admin: assignments by okrug and TIK, changed only through the coverage
services (audited), and mobile groups and coverage rules saved the same way."""

import pytest

from reports.models import Assignment, AuditEntry, CoverageRules, MobileGroup
from reports.services.observers import observer_create

from .moderation_fixtures import client_for, staff_user

pytestmark = pytest.mark.django_db

URL = "/admin/reports/assignment/"


@pytest.fixture
def coordinator(stations):
    return staff_user("coordinator", "coordinator")


def test_assignments_are_listed_by_okrug(coordinator, observer, other_observer, stations):
    response = client_for(coordinator).get(f"{URL}?okrug={stations[201].okrug_id}")
    page = response.content.decode()
    assert "Ёж" in page and "Сова" not in page


def test_a_coordinator_limited_to_an_okrug_sees_only_its_assignments(
    observer, other_observer, stations
):
    central = staff_user("coordinator", "central", okrugs=(stations[101].okrug,))
    page = client_for(central).get(URL).content.decode()
    assert "Сова" in page and "Ёж" not in page


def test_marking_an_observer_removed_goes_through_the_service(coordinator, observer):
    assignment = observer.assignments.get()
    client_for(coordinator).post(
        URL, {"action": "mark_removed", "_selected_action": [assignment.pk]}
    )
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.REMOVED
    entry = AuditEntry.objects.get(action="assignment_set_status")
    assert (entry.actor, entry.after["status"]) == (coordinator, "removed")


def test_adding_an_assignment_is_audited(coordinator, stations):
    fox = observer_create(election=stations[102].election, pseudonym="Лис", legal_status="observer")
    response = client_for(coordinator).post(
        f"{URL}add/", {"observer": fox.pk, "station": stations[102].pk, "status": "planned"}
    )
    assert response.status_code == 302
    assert fox.assignments.get().station == stations[102]
    assert AuditEntry.objects.filter(action="assignment_create", actor=coordinator).exists()


def test_a_station_outside_the_coordinators_okrugs_cannot_be_assigned(stations):
    central = staff_user("coordinator", "central", okrugs=(stations[101].okrug,))
    fox = observer_create(election=stations[201].election, pseudonym="Лис", legal_status="observer")
    response = client_for(central).post(
        f"{URL}add/", {"observer": fox.pk, "station": stations[201].pk, "status": "planned"}
    )
    assert response.status_code == 200
    assert not fox.assignments.exists()


def test_a_mobile_group_is_created_through_the_service(stations):
    admin_user = staff_user("administrator", "chief")
    response = client_for(admin_user).post(
        "/admin/reports/mobilegroup/add/",
        {"okrug": stations[101].okrug_id, "name": "МГ-2", "car": "УАЗ", "members": "Анна"},
    )
    assert response.status_code == 302
    group = MobileGroup.objects.get()
    assert (group.name, group.status) == ("МГ-2", "available")
    assert AuditEntry.objects.filter(action="mobile_group_save", actor=admin_user).exists()


def rules_post(election, **changes):
    fields = {
        "election": election.pk, "checkin_minutes": 30, "silence_minutes": 120,
        "checkpoints": '["10", "12", "15", "18"]', "checkpoint_grace_minutes": 30,
        "alerts_enabled": "on",
    }  # fmt: skip
    client = client_for(staff_user("administrator", "chief"))
    return client.post("/admin/reports/coveragerules/add/", fields | changes)


def test_coverage_rules_are_saved_per_election(election):
    response = rules_post(election, checkin_minutes=45, checkpoints='["10", "15"]')
    assert response.status_code == 302
    rules = CoverageRules.of(election)
    assert (rules.checkin_minutes, rules.checkpoints) == (45, ["10", "15"])
    assert AuditEntry.objects.filter(action="coverage_rules_save").exists()


def test_checkpoints_outside_the_turnout_form_are_refused(election):
    assert rules_post(election, checkpoints='["11"]').status_code == 200
    assert not CoverageRules.objects.exists()
