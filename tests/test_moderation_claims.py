"""Claims: one moderator at a time on an incident, visible to all, lapsing after a while."""

import threading
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from reports.models import AuditEntry, Incident, ReviewStatus
from reports.services.incidents import (
    DecisionRefused,
    IncidentHeld,
    incident_claim,
    incident_release,
    incident_verify,
)

from .moderation_fixtures import (
    anna_fixture,
    claim_by,
    client_for,
    english_fixture,
    incident_make,
    staff_user,
)

USED_FIXTURES = (anna_fixture, english_fixture)  # pytest finds them among the module's names

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def boris(stations):
    return staff_user("moderator", "boris")


@pytest.fixture
def incident(stations, categories):
    return incident_make(stations[101], categories["V1"], reports=2)


def test_a_claim_holds_the_incident_for_the_set_minutes(settings, anna, incident):
    settings.CLAIM_MINUTES = 20

    incident_claim(incident=incident, actor=anna)

    incident.refresh_from_db()
    assert incident.claimed_by == anna
    remaining = incident.claimed_until - timezone.now()
    assert timedelta(minutes=19) < remaining <= timedelta(minutes=20)


def test_a_second_moderator_is_told_who_holds_it(anna, boris, incident):
    incident_claim(incident=incident, actor=anna)

    with pytest.raises(IncidentHeld, match="Anna"):
        incident_claim(incident=incident, actor=boris)
    incident.refresh_from_db()
    assert incident.claimed_by == anna


def test_a_lapsed_claim_can_be_taken(anna, boris, incident):
    claim_by(incident, anna, minutes=-1)

    incident_claim(incident=incident, actor=boris)

    incident.refresh_from_db()
    assert incident.claimed_by == boris


def test_claiming_again_renews_ones_own_claim(anna, incident):
    claim_by(incident, anna, minutes=1)

    incident_claim(incident=incident, actor=anna)

    incident.refresh_from_db()
    assert incident.claimed_until - timezone.now() > timedelta(minutes=10)


def test_only_the_holder_can_release(anna, boris, incident):
    claim_by(incident, anna)

    assert not incident_release(incident=incident, actor=boris)
    incident.refresh_from_db()
    assert incident.claimed_by == anna
    assert incident_release(incident=incident, actor=anna)
    incident.refresh_from_db()
    assert incident.claimed_by is None


def test_deciding_on_an_incident_someone_else_holds_is_refused(anna, boris, incident):
    claim_by(incident, anna)

    with pytest.raises(IncidentHeld):
        incident_verify(incident=incident, actor=boris)
    incident.refresh_from_db()
    assert incident.status == ReviewStatus.NEW
    assert not AuditEntry.objects.exists()


def test_the_incident_page_shows_the_holder_and_refuses_others(anna, boris, incident):
    claim_by(incident, anna)
    client = client_for(boris)

    page = client.get(reverse("admin:reports_incident_change", args=[incident.pk]))
    refused = client.post(
        reverse("admin:reports_incident_decide", args=[incident.pk, "verify"]), follow=True
    )

    assert "Claimed by Anna until" in page.content.decode()
    assert f"Incident #{incident.pk} is being handled by Anna" in refused.content.decode()
    incident.refresh_from_db()
    assert incident.status == ReviewStatus.NEW


def test_the_queue_shows_who_holds_each_incident(anna, boris, incident):
    claim_by(incident, anna)

    page = client_for(boris).get(reverse("admin:reports_incident_changelist") + "?queue=all")

    assert "Anna until" in page.content.decode()


def test_bulk_verify_skips_incidents_held_by_others_and_says_which(
    anna, boris, incident, stations, categories
):
    free = incident_make(stations[102], categories["V2"])
    claim_by(incident, anna)

    response = client_for(boris).post(
        reverse("admin:reports_incident_changelist") + "?queue=all",
        {"action": "verify_selected", ACTION_CHECKBOX_NAME: [incident.pk, free.pk]},
        follow=True,
    )

    text = response.content.decode()
    assert "1 incident verified" in text
    assert f"Incident #{incident.pk} is being handled by Anna" in text
    assert Incident.objects.get(pk=free.pk).status == ReviewStatus.VERIFIED
    assert Incident.objects.get(pk=incident.pk).status == ReviewStatus.NEW


def test_bulk_claim_takes_only_free_incidents(anna, boris, incident, stations, categories):
    free = incident_make(stations[102], categories["V2"])
    claim_by(incident, anna)

    client_for(boris).post(
        reverse("admin:reports_incident_changelist"),
        {"action": "claim_selected", ACTION_CHECKBOX_NAME: [incident.pk, free.pk]},
    )

    assert Incident.objects.get(pk=free.pk).claimed_by == boris
    assert Incident.objects.get(pk=incident.pk).claimed_by == anna


def run_at_once(*actions) -> list:
    """Run callables in threads released together; return each one's result or exception."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait()
            results[index] = action()
        except Exception as error:  # noqa: BLE001 (the test inspects it)
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("claim races need PostgreSQL row locks (DATABASE_URL=postgres://…)")


@pytest.mark.django_db(transaction=True)
def test_two_moderators_claiming_at_once_exactly_one_wins(anna, boris, stations, categories):
    require_postgresql()
    incidents = [incident_make(stations[101], categories["V1"]) for _ in range(5)]

    for incident in incidents:
        results = run_at_once(
            lambda incident=incident: incident_claim(incident=incident, actor=anna),
            lambda incident=incident: incident_claim(incident=incident, actor=boris),
        )
        refused = [result for result in results if isinstance(result, IncidentHeld)]
        assert len(refused) == 1, results
        incident.refresh_from_db()
        winner = anna if refused[0] is results[1] else boris
        assert incident.claimed_by == winner


@pytest.mark.django_db(transaction=True)
def test_two_moderators_verifying_at_once_verify_once(anna, boris, stations, categories):
    require_postgresql()
    incident = incident_make(stations[101], categories["V1"], reports=3)

    results = run_at_once(
        lambda: incident_verify(incident=incident, actor=anna),
        lambda: incident_verify(incident=incident, actor=boris),
    )

    assert sum(isinstance(result, DecisionRefused) for result in results) == 1, results
    incident.refresh_from_db()
    assert incident.status == ReviewStatus.VERIFIED
    assert AuditEntry.objects.filter(action="incident_verify").count() == 1
