"""Every admin write leaves an audit entry, and nothing that holds data is deleted: an
election is archived (kept whole, read-only, its observers signed out), a category in use
is retired (kept on old reports, no longer offered)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import ProtectedError
from django.db.utils import IntegrityError

from reports.forms.reports import categories_forget, categories_reportable
from reports.models import AuditEntry, Category, Election, Report, SignInLink
from reports.services.submission import ReportInput, report_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(observer, stations, categories):
    import uuid

    created, _ = report_submit(
        data=ReportInput(uuid=uuid.uuid4(), station=stations[101], category=categories["V3"]),
        observer=observer,
        channel="web",
    )
    return created


def election_form(election: Election, **changes) -> dict:
    data = {
        "name": election.name,
        "date": election.date.isoformat(),
        "time_zone": election.time_zone,
        "polls_open": "08:00",
        "polls_close": "20:00",
        "protocol_template": "{}",
        "is_active": "on",
    }
    data.update(changes)
    return data


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action))


def test_editing_an_election_in_the_admin_is_audited(admin_client, admin_user, election):
    url = f"/admin/reports/election/{election.pk}/change/"
    answer = admin_client.post(url, election_form(election, polls_close="21:00"))
    assert answer.status_code == 302
    [entry] = entries("election_change")
    assert entry.actor == admin_user
    assert (entry.before["polls_close"], entry.after["polls_close"]) == ("20:00:00", "21:00:00")


def test_an_election_with_data_cannot_be_deleted(admin_client, election, report):
    with pytest.raises((ProtectedError, IntegrityError)):
        Election.objects.filter(pk=election.pk).delete()
    answer = admin_client.post(f"/admin/reports/election/{election.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 403
    assert Election.objects.filter(pk=election.pk).exists()


def test_an_archived_election_keeps_every_row_and_signs_its_observers_out(
    admin_client, election, report, observer_link, observer_client
):
    answer = admin_client.post(
        "/admin/reports/election/",
        {"action": "archive", "_selected_action": [election.pk]},
    )
    assert answer.status_code == 302
    election.refresh_from_db()
    assert election.archived_at is not None and not election.is_active
    assert Report.objects.filter(pk=report.pk).exists()
    assert not SignInLink.objects.filter(observer__election=election, revoked_at=None).exists()
    assert observer_client.get("/report/").status_code == 302  # signed out
    [entry] = entries("election_archive")
    assert entry.after["archived_at"]
    change = admin_client.post(
        f"/admin/reports/election/{election.pk}/change/", election_form(election, name="x")
    )
    assert change.status_code == 403
    election.refresh_from_db()
    assert election.name != "x"


def test_renaming_a_category_is_audited(admin_client, categories):
    category = categories["V3"]
    data = {
        field: getattr(category, field)
        for field in ("phase", "severity", "golos_code", "name_en", "hint_en", "hint_ru",
                      "position")
    }  # fmt: skip
    data["name_ru"] = "Новое имя"
    answer = admin_client.post(f"/admin/reports/category/{category.pk}/change/", data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    [entry] = entries("category_change")
    assert (entry.before["name_ru"], entry.after["name_ru"]) == (category.name_ru, "Новое имя")


def test_a_category_in_use_is_retired_not_deleted(admin_client, report, categories):
    used = categories["V3"]
    answer = admin_client.post(f"/admin/reports/category/{used.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 403
    admin_client.post(
        "/admin/reports/category/", {"action": "retire", "_selected_action": [used.pk]}
    )
    categories_forget()
    assert Category.objects.get(pk=used.pk).retired
    assert "V3" not in categories_reportable()
    assert Report.objects.get(pk=report.pk).category_id == "V3"
    assert entries("category_change")[0].after["retired"] is True


def test_giving_someone_a_role_is_audited_with_who_gave_it(admin_client, admin_user):
    person = get_user_model().objects.create_user(username="anna", is_staff=True)
    moderators = Group.objects.get(name="moderator")
    answer = admin_client.post(
        f"/admin/auth/user/{person.pk}/change/",
        {
            "username": "anna",
            "is_active": "on",
            "is_staff": "on",
            "groups": [moderators.pk],
            "date_joined_0": "2026-09-01",
            "date_joined_1": "10:00:00",
            "okrug_scopes-TOTAL_FORMS": "0",
            "okrug_scopes-INITIAL_FORMS": "0",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:3000]
    [entry] = entries("user_roles_change")
    assert entry.actor == admin_user
    assert (entry.before["groups"], entry.after["groups"]) == ([], ["moderator"])


def test_changing_what_a_role_may_do_is_audited(admin_client):
    lawyers = Group.objects.get(name="lawyer")
    extra = Permission.objects.get(codename="view_observercontact")
    permissions = [*lawyers.permissions.values_list("pk", flat=True), extra.pk]
    answer = admin_client.post(
        f"/admin/auth/group/{lawyers.pk}/change/", {"name": "lawyer", "permissions": permissions}
    )
    assert answer.status_code == 302
    [entry] = entries("group_change")
    assert "reports.view_observercontact" in set(entry.after["permissions"]) - set(
        entry.before["permissions"]
    )


def test_the_audit_log_exports_in_one_shape_as_json_and_csv(admin_client, admin_user, election):
    import csv
    import io
    import json

    admin_client.post(
        f"/admin/reports/election/{election.pk}/change/", election_form(election, name="Новые")
    )
    [entry] = entries("election_change")
    downloads = {}
    for fmt in ("json", "csv"):
        answer = admin_client.post(
            "/admin/reports/auditentry/",
            {"action": f"export_{fmt}", "_selected_action": [entry.pk]},
        )
        downloads[fmt] = b"".join(answer.streaming_content).decode()
    [as_json] = json.loads(downloads["json"])
    [as_csv] = list(csv.DictReader(io.StringIO(downloads["csv"])))
    assert set(as_json) == set(as_csv) == {
        "id", "at", "actor", "action", "object_type", "object_id", "before", "after", "note",
    }  # fmt: skip
    assert (as_json["actor"], as_csv["actor"]) == (admin_user.username, admin_user.username)
    assert as_json["after"]["name"] == json.loads(as_csv["after"])["name"] == "Новые"
    assert as_json["at"] == as_csv["at"]


def test_the_audit_log_filters_by_action_offering_every_action(admin_client, election):
    from reports.services.audit import audit_record

    for action in ("incident_verify", "incident_verify", "user_roles_change"):
        audit_record(actor=None, action=action, obj=election)

    page = admin_client.get("/admin/reports/auditentry/").content.decode()
    assert "?action=incident_verify" in page and "?action=user_roles_change" in page
    filtered = admin_client.get("/admin/reports/auditentry/?action=user_roles_change")
    shown = list(filtered.context["cl"].result_list)
    assert [entry.action for entry in shown] == ["user_roles_change"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_an_election_day_outside_the_years_the_site_stores_is_refused(admin_client, election, day):
    url = f"/admin/reports/election/{election.pk}/change/"
    answer = admin_client.post(url, election_form(election, date=day))
    assert answer.status_code == 200
    assert "между 2000 и 2099" in answer.content.decode()
    election.refresh_from_db()
    assert 2000 <= election.date.year < 2100
    assert entries("election_change") == []
