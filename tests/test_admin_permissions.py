"""Who may do what in the panel: each role × each page and decision, and okrug limits."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from reports.models import AuditEntry, Incident, ReviewStatus
from reports.services.incidents import incident_note

from .moderation_fixtures import (
    client_for,
    english_fixture,
    evidence_make,
    incident_make,
    staff_user,
)

USED_FIXTURES = (english_fixture,)  # pytest finds them among the module's names

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ROLES = ["moderator", "coordinator", "lawyer", "administrator", None]
HQ = {"moderator", "coordinator", "lawyer", "administrator"}


@pytest.fixture
def scene(stations, categories, observer):
    """A new and a verified incident at station 101 (okrug ЦАО), one at 201 (САО)."""
    new = incident_make(stations[101], categories["V1"], observer=observer)
    verified = incident_make(
        stations[101], categories["V2"], observer=observer, status=ReviewStatus.VERIFIED
    )
    north = incident_make(stations[201], categories["V1"])
    return {
        "new": new,
        "verified": verified,
        "north": north,
        "evidence": evidence_make(new.reports.get()),
        "north_evidence": evidence_make(north.reports.get(), b"another photo"),
    }


PAGES = {
    "incident list": (lambda s: reverse("admin:reports_incident_changelist"), HQ),
    "incident page": (lambda s: reverse("admin:reports_incident_change", args=[s["new"].pk]), HQ),
    "report list": (lambda s: reverse("admin:reports_report_changelist"), HQ),
    "evidence list": (lambda s: reverse("admin:reports_evidence_changelist"), HQ),
    "original file": (
        lambda s: reverse("admin:reports_evidence_original", args=[s["evidence"].pk]),
        HQ,
    ),
    "audit log": (lambda s: reverse("admin:reports_auditentry_changelist"), HQ),
    "dashboard": (lambda s: reverse("admin:reports_dashboard"), HQ),
    "dashboard data": (lambda s: reverse("admin:reports_dashboard_data"), HQ),
    "complaint": (
        lambda s: reverse("admin:reports_incident_complaint", args=[s["verified"].pk]),
        {"lawyer", "administrator"},
    ),
    "contacts": (
        lambda s: reverse("admin:reports_observercontact_changelist"),
        {"coordinator", "administrator"},
    ),
    "downloads log": (
        lambda s: reverse("admin:reports_evidenceaccess_changelist"),
        {"coordinator", "lawyer", "administrator"},
    ),
    "accounts": (lambda s: reverse("admin:auth_user_changelist"), {"administrator"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_pages(page, role, scene):
    url, allowed = PAGES[page]
    client = client_for(staff_user(role, "someone"))

    response = client.get(url(scene))

    assert response.status_code == (200 if role in allowed else 403)


DECISIONS = {
    "claim": ({}, {"moderator", "coordinator", "administrator"}),
    "verify": ({"note": ""}, {"moderator", "coordinator", "administrator"}),
    "reject": ({"reason": "a reason"}, {"moderator", "coordinator", "administrator"}),
    "escalate": ({"kind": "lawyer", "note": ""}, HQ),
    "note": ({"text": "a note"}, HQ),
    "question": ({"text": "a question"}, {"moderator", "coordinator", "administrator"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("decision", DECISIONS)
def test_decisions(decision, role, scene):
    data, allowed = DECISIONS[decision]
    incident = scene["new"]
    if decision == "question":
        data = data | {"report": incident.reports.get().pk}
    user = staff_user(role, "someone")

    response = client_for(user).post(
        reverse("admin:reports_incident_decide", args=[incident.pk, decision]), data
    )

    made = (
        Incident.objects.filter(pk=incident.pk, claimed_by=user).exists()
        if decision == "claim"
        else AuditEntry.objects.filter(actor=user).count() == 1
    )
    assert response.status_code == (302 if role in allowed else 403)
    assert made == (role in allowed)


LIST_ACTIONS = {
    "claim_selected": {"moderator", "coordinator", "administrator"},
    "verify_selected": {"moderator", "coordinator", "administrator"},
    "merge_selected": {"moderator", "coordinator", "administrator"},
    "escalate_mobile_group": HQ,
    "export_audit": HQ,
}


@pytest.mark.parametrize("role", sorted(HQ))
@pytest.mark.parametrize("action", LIST_ACTIONS)
def test_list_actions_offered(action, role, scene):
    client = client_for(staff_user(role, "someone"))

    response = client.get(reverse("admin:reports_incident_changelist"))

    offered = dict(response.context["action_form"].fields["action"].choices)
    assert (action in offered) == (role in LIST_ACTIONS[action])


def test_a_refused_list_action_changes_nothing(scene):
    lawyer = staff_user("lawyer", "lena")

    client_for(lawyer).post(
        reverse("admin:reports_incident_changelist"),
        {"action": "verify_selected", ACTION_CHECKBOX_NAME: [scene["new"].pk]},
    )

    assert Incident.objects.get(pk=scene["new"].pk).status == ReviewStatus.NEW


def test_the_audit_export_of_selected_incidents_is_csv(scene):
    moderator = staff_user("moderator", "anna")
    incident_note(incident=scene["new"], actor=moderator, text="Called the observer")

    response = client_for(moderator).post(
        reverse("admin:reports_incident_changelist") + "?queue=all",
        {"action": "export_audit", ACTION_CHECKBOX_NAME: [scene["new"].pk]},
    )

    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert "incident_note" in body and "Called the observer" in body


@pytest.mark.parametrize(("role", "shown"), [("moderator", False), ("coordinator", True)])
def test_contacts_on_the_incident_page_only_with_the_permission(role, shown, scene, observer):
    client = client_for(staff_user(role, "someone"))

    page = client.get(reverse("admin:reports_incident_change", args=[scene["new"].pk]))

    assert (observer.contact.phone in page.content.decode()) == shown
    assert "Сова" in page.content.decode()


@pytest.fixture
def central_moderator(stations):
    return staff_user("moderator", "limited", okrugs=(stations[101].okrug,))


def test_a_limited_moderator_lists_only_their_okrugs(central_moderator, scene):
    response = client_for(central_moderator).get(
        reverse("admin:reports_incident_changelist") + "?queue=all"
    )

    shown = {incident.pk for incident in response.context["cl"].result_list}
    assert shown == {scene["new"].pk, scene["verified"].pk}


def test_a_limited_moderator_cannot_open_an_incident_elsewhere(central_moderator, scene):
    client = client_for(central_moderator)

    page = client.get(reverse("admin:reports_incident_change", args=[scene["north"].pk]))
    decision = client.post(
        reverse("admin:reports_incident_decide", args=[scene["north"].pk, "claim"])
    )

    assert page.status_code == 302  # the admin's "does not exist" redirect
    assert decision.status_code == 404
    assert Incident.objects.get(pk=scene["north"].pk).claimed_by is None


def test_a_limited_moderator_cannot_download_evidence_from_elsewhere(central_moderator, scene):
    url = reverse("admin:reports_evidence_original", args=[scene["north_evidence"].pk])

    response = client_for(central_moderator).get(url)

    assert response.status_code == 404
    assert not scene["north_evidence"].accesses.exists()


def test_a_limited_moderator_sees_reports_and_audit_of_their_okrugs_only(central_moderator, scene):
    everyone = staff_user("moderator", "anna")
    incident_note(incident=scene["new"], actor=everyone, text="here")
    incident_note(incident=scene["north"], actor=everyone, text="there")
    client = client_for(central_moderator)

    reports = client.get(reverse("admin:reports_report_changelist")).context["cl"].result_list
    audit = client.get(reverse("admin:reports_auditentry_changelist")).context["cl"].result_list

    assert {report.station.number for report in reports} == {101}
    assert [entry.note for entry in audit] == ["here"]
    assert AuditEntry.objects.filter(action="incident_note").count() == 2


def test_a_limited_coordinator_sees_contacts_of_their_okrugs_only(
    stations, observer, other_observer
):
    coordinator = staff_user("coordinator", "kira", okrugs=(stations[201].okrug,))

    response = client_for(coordinator).get(reverse("admin:reports_observercontact_changelist"))

    assert [c.observer for c in response.context["cl"].result_list] == [other_observer]


@pytest.mark.parametrize(
    "model",
    [
        "incident", "report", "evidence", "auditentry", "okrug", "tik", "station", "observer",
        "observercontact", "escalation", "evidenceaccess",
    ],
)  # fmt: skip
def test_every_list_and_page_opens_for_the_administrator(model, scene, observer):
    administrator = staff_user("administrator", "root")
    incident_note(incident=scene["new"], actor=administrator, text="a note")
    client = client_for(administrator)
    client.get(reverse("admin:reports_evidence_original", args=[scene["evidence"].pk]))
    client.post(
        reverse("admin:reports_incident_decide", args=[scene["new"].pk, "escalate"]),
        {"kind": "lawyer"},
    )

    listing = client.get(reverse(f"admin:reports_{model}_changelist"))
    first = listing.context["cl"].result_list[0]
    page = client.get(reverse(f"admin:reports_{model}_change", args=[first.pk]))

    assert listing.status_code == 200
    assert page.status_code == 200
