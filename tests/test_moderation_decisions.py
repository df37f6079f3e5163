"""Moderators' decisions on incidents: what each changes, and that each writes exactly one
audit entry with who, what, when, before and after."""

import pytest
from django.urls import reverse

from reports.models import (
    Alert,
    AuditEntry,
    Escalation,
    Incident,
    IncidentNote,
    Question,
    Report,
    ReviewStatus,
)
from reports.services.incidents import (
    DecisionRefused,
    OutOfScope,
    incident_escalate,
    incident_merge,
    incident_note,
    incident_reject,
    incident_split,
    incident_verify,
    question_ask,
)

from .moderation_fixtures import (
    anna_fixture,
    client_for,
    english_fixture,
    incident_make,
    staff_user,
)

USED_FIXTURES = (anna_fixture, english_fixture)  # pytest finds them among the module's names

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def ballot_stuffing(stations, categories, observer):
    return incident_make(stations[101], categories["V1"], reports=2, observer=observer)


def audit_of(incident: Incident) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type="incident", object_id=str(incident.pk)))


def test_verifying_marks_the_incident_and_its_reports_verified(anna, ballot_stuffing):
    incident_verify(incident=ballot_stuffing, actor=anna)

    ballot_stuffing.refresh_from_db()
    assert ballot_stuffing.status == ReviewStatus.VERIFIED
    assert set(ballot_stuffing.reports.values_list("status", flat=True)) == {"verified"}
    assert ballot_stuffing.claimed_by is None


def test_the_audit_entry_says_who_what_before_and_after(anna, ballot_stuffing):
    incident_verify(incident=ballot_stuffing, actor=anna, note="Called back, confirmed")

    [entry] = audit_of(ballot_stuffing)
    assert entry.actor == anna
    assert entry.action == "incident_verify"
    assert entry.before["status"] == "new"
    assert entry.after["status"] == "verified"
    assert entry.note == "Called back, confirmed"
    assert entry.at is not None


def test_verified_reports_are_queued_for_the_tallies_again(anna, ballot_stuffing):
    incident_verify(incident=ballot_stuffing, actor=anna)

    assert not ballot_stuffing.reports.filter(aggregated_at__isnull=False).exists()


def test_rejecting_needs_a_reason(anna, ballot_stuffing):
    with pytest.raises(DecisionRefused):
        incident_reject(incident=ballot_stuffing, actor=anna, reason="  ")

    ballot_stuffing.refresh_from_db()
    assert ballot_stuffing.status == ReviewStatus.NEW
    assert audit_of(ballot_stuffing) == []


def test_rejecting_keeps_the_reason_in_the_audit_log(anna, ballot_stuffing):
    incident_reject(incident=ballot_stuffing, actor=anna, reason="Ballots were the spoilt ones")

    ballot_stuffing.refresh_from_db()
    assert ballot_stuffing.status == ReviewStatus.REJECTED
    [entry] = audit_of(ballot_stuffing)
    assert entry.note == "Ballots were the spoilt ones"


def test_verifying_twice_is_refused(anna, ballot_stuffing):
    incident_verify(incident=ballot_stuffing, actor=anna)

    with pytest.raises(DecisionRefused, match="already"):
        incident_verify(incident=ballot_stuffing, actor=anna)
    assert len(audit_of(ballot_stuffing)) == 1


def test_escalating_to_a_mobile_group_records_the_request(anna, ballot_stuffing):
    escalation = incident_escalate(
        incident=ballot_stuffing, actor=anna, kind=Escalation.Kind.MOBILE_GROUP, note="Car 3"
    )

    ballot_stuffing.refresh_from_db()
    assert escalation.kind == "mobile_group"
    assert escalation.created_by == anna
    assert ballot_stuffing.status == ReviewStatus.ESCALATED
    assert ballot_stuffing.needs_mobile_group
    assert ballot_stuffing.claimed_by == anna  # still working on it


def test_a_note_is_kept_with_its_author(anna, ballot_stuffing):
    incident_note(incident=ballot_stuffing, actor=anna, text="Observer is calling back at 11")

    [note] = IncidentNote.objects.filter(incident=ballot_stuffing)
    assert (note.author, note.text) == (anna, "Observer is calling back at 11")


def test_a_question_reaches_the_observers_my_reports(anna, ballot_stuffing, observer_client):
    report = ballot_stuffing.reports.first()

    question_ask(report=report, actor=anna, text="How many ballots were in the bundle?")

    assert Question.objects.get(report=report).asked_by == anna
    page = observer_client.get(reverse("reports:my_reports"))
    assert "How many ballots were in the bundle?" in page.content.decode()


def test_an_anonymous_report_cannot_be_asked(anna, stations, categories):
    incident = incident_make(stations[101], categories["V1"])

    with pytest.raises(DecisionRefused):
        question_ask(report=incident.reports.get(), actor=anna, text="Who are you?")
    assert not Question.objects.exists()


def test_merging_moves_the_reports_and_removes_the_duplicates(anna, stations, categories):
    first = incident_make(stations[101], categories["V1"], reports=2, minutes_ago=30)
    duplicate = incident_make(stations[101], categories["V2"], reports=1, minutes_ago=5)

    target = incident_merge(target=first, others=[duplicate], actor=anna)

    assert not Incident.objects.filter(pk=duplicate.pk).exists()
    assert target.reports.count() == 3
    assert target.report_count == 3
    assert target.pinned_by_moderator
    [entry] = audit_of(first)
    assert entry.action == "incident_merge"
    assert entry.before["merged"][0]["id"] == duplicate.pk
    assert len(entry.after["reports"]) == 3


def test_merging_keeps_what_was_attached_to_the_duplicates(anna, stations, categories):
    first = incident_make(stations[101], categories["V1"])
    duplicate = incident_make(stations[101], categories["V1"])
    incident_note(incident=duplicate, actor=anna, text="Seen from the street")
    alert = Alert.objects.create(
        election=duplicate.election,
        rule=Alert.Rule.IMMEDIATE,
        key="immediate:test",
        okrug=duplicate.station.okrug,
        station=duplicate.station,
        incident=duplicate,
        at=duplicate.last_at,
    )

    incident_merge(target=first, others=[duplicate], actor=anna)

    assert [note.text for note in first.notes.all()] == ["Seen from the street"]
    alert.refresh_from_db()
    assert alert.incident_id == first.pk


def test_incidents_at_different_stations_are_not_merged(anna, stations, categories):
    here = incident_make(stations[101], categories["V1"])
    there = incident_make(stations[102], categories["V1"])

    with pytest.raises(DecisionRefused, match="same station"):
        incident_merge(target=here, others=[there], actor=anna)
    assert Incident.objects.filter(pk=there.pk).exists()


def test_splitting_moves_chosen_reports_into_a_new_incident(anna, ballot_stuffing):
    moved = ballot_stuffing.reports.order_by("received_at").last()

    new = incident_split(incident=ballot_stuffing, report_ids=[moved.pk], actor=anna)

    ballot_stuffing.refresh_from_db()
    assert list(new.reports.all()) == [moved]
    assert ballot_stuffing.report_count == 1
    assert new.status == ReviewStatus.NEW
    assert new.pinned_by_moderator and ballot_stuffing.pinned_by_moderator
    [entry] = audit_of(ballot_stuffing)
    assert entry.after["split_into"] == new.pk
    assert entry.after["moved"] == [moved.pk]


def test_splitting_off_every_report_is_refused(anna, ballot_stuffing):
    report_ids = list(ballot_stuffing.reports.values_list("pk", flat=True))

    with pytest.raises(DecisionRefused):
        incident_split(incident=ballot_stuffing, report_ids=report_ids, actor=anna)
    assert Incident.objects.count() == 1


DECISIONS = {
    "verify": lambda incident, actor: incident_verify(incident=incident, actor=actor),
    "reject": lambda incident, actor: incident_reject(incident=incident, actor=actor, reason="x"),
    "escalate": lambda incident, actor: incident_escalate(
        incident=incident, actor=actor, kind=Escalation.Kind.LAWYER
    ),
    "note": lambda incident, actor: incident_note(incident=incident, actor=actor, text="x"),
    "question": lambda incident, actor: question_ask(
        report=incident.reports.first(), actor=actor, text="x"
    ),
    "merge": lambda incident, actor: incident_merge(
        target=incident,
        others=[incident_make(incident.station, incident.category, reports=1)],
        actor=actor,
    ),
    "split": lambda incident, actor: incident_split(
        incident=incident, report_ids=[incident.reports.first().pk], actor=actor
    ),
}


@pytest.mark.parametrize("decision", DECISIONS)
def test_every_decision_writes_exactly_one_audit_entry(decision, anna, ballot_stuffing):
    before = AuditEntry.objects.count()

    DECISIONS[decision](ballot_stuffing, anna)

    assert AuditEntry.objects.count() == before + 1
    assert AuditEntry.objects.latest("pk").actor == anna


def test_a_limited_moderator_cannot_decide_outside_their_okrugs(stations, ballot_stuffing):
    north_only = staff_user("moderator", "boris", okrugs=(stations[201].okrug,))

    with pytest.raises(OutOfScope):
        incident_verify(incident=ballot_stuffing, actor=north_only)
    ballot_stuffing.refresh_from_db()
    assert ballot_stuffing.status == ReviewStatus.NEW


def test_the_verify_button_verifies_and_says_so(anna, ballot_stuffing):
    url = reverse("admin:reports_incident_decide", args=[ballot_stuffing.pk, "verify"])

    response = client_for(anna).post(url, {"note": ""}, follow=True)

    ballot_stuffing.refresh_from_db()
    assert ballot_stuffing.status == ReviewStatus.VERIFIED
    assert f"Incident #{ballot_stuffing.pk} verified" in response.content.decode()


def test_the_reject_button_without_a_reason_changes_nothing(anna, ballot_stuffing):
    url = reverse("admin:reports_incident_decide", args=[ballot_stuffing.pk, "reject"])

    response = client_for(anna).post(url, {"reason": ""}, follow=True)

    ballot_stuffing.refresh_from_db()
    assert ballot_stuffing.status == ReviewStatus.NEW
    assert "This field is required" in response.content.decode()


def test_the_split_form_moves_the_ticked_reports(anna, ballot_stuffing):
    moved = ballot_stuffing.reports.order_by("received_at").last()
    url = reverse("admin:reports_incident_decide", args=[ballot_stuffing.pk, "split"])

    client_for(anna).post(url, {"reports": [moved.pk]})

    assert Report.objects.get(pk=moved.pk).incident_id != ballot_stuffing.pk


def test_the_merge_form_refuses_numbers_the_moderator_cannot_see(stations, categories):
    limited = staff_user("moderator", "vera", okrugs=(stations[101].okrug,))
    here = incident_make(stations[101], categories["V1"])
    elsewhere = incident_make(stations[201], categories["V1"])
    url = reverse("admin:reports_incident_decide", args=[here.pk, "merge"])

    response = client_for(limited).post(url, {"numbers": f"{elsewhere.pk}"}, follow=True)

    assert f"#{elsewhere.pk}" in response.content.decode()
    assert Incident.objects.filter(pk=elsewhere.pk).exists()
