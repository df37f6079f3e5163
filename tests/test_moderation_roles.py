"""Role groups and okrug limits of staff members."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from reports.models import AuditEntry, StaffScope
from reports.services.roles import role_groups_ensure, staff_scope_add, staff_scope_remove

from .moderation_fixtures import client_for, staff_user

pytestmark = pytest.mark.django_db


def codenames(role: str) -> set[str]:
    return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))


def test_the_migrations_create_the_four_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "moderator",
        "coordinator",
        "lawyer",
        "administrator",
    }


@pytest.mark.parametrize(
    ("role", "has", "lacks"),
    [
        ("moderator", {"change_incident", "download_original"}, {"view_observercontact"}),
        ("coordinator", {"change_incident", "view_observercontact"}, {"draft_complaint"}),
        ("lawyer", {"draft_complaint", "add_incidentnote"}, {"change_incident"}),
        ("administrator", {"draft_complaint", "view_observercontact", "change_user"}, set()),
    ],
)
def test_each_role_has_its_permissions(role, has, lacks):
    assert has <= codenames(role)
    assert not lacks & codenames(role)


def test_ensuring_again_restores_exactly_the_roles_permissions():
    moderator = Group.objects.get(name="moderator")
    expected = codenames("moderator")
    moderator.permissions.add(Permission.objects.get(codename="view_observercontact"))
    moderator.permissions.remove(Permission.objects.get(codename="change_incident"))

    call_command("role_groups", stdout=None)

    assert codenames("moderator") == expected


def test_ensuring_twice_changes_nothing():
    role_groups_ensure()
    before = {role: codenames(role) for role in ("moderator", "lawyer")}

    role_groups_ensure()

    assert {role: codenames(role) for role in ("moderator", "lawyer")} == before


def test_limiting_a_moderator_to_an_okrug_is_audited(stations):
    administrator = staff_user("administrator", "root")
    moderator = staff_user("moderator", "anna")

    scope = staff_scope_add(user=moderator, okrug=stations[101].okrug, actor=administrator)
    staff_scope_remove(scope=scope, actor=administrator)

    actions = list(AuditEntry.objects.order_by("pk").values_list("action", "actor__username"))
    assert actions[-2:] == [("staff_scope_add", "root"), ("staff_scope_remove", "root")]
    assert not StaffScope.objects.exists()


def test_the_administrator_limits_a_moderator_on_the_account_page(stations):
    administrator = staff_user("administrator", "root")
    moderator = staff_user("moderator", "anna")
    okrug = stations[201].okrug
    url = reverse("admin:auth_user_change", args=[moderator.pk])
    form = client_for(administrator).get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("password", "groups", "user_permissions")
    }
    data |= {
        "groups": [group.pk for group in moderator.groups.all()],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": moderator.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": moderator.date_joined.strftime("%H:%M:%S"),
        "okrug_scopes-TOTAL_FORMS": "1",
        "okrug_scopes-INITIAL_FORMS": "0",
        "okrug_scopes-0-okrug": okrug.pk,
    }

    response = client_for(administrator).post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(StaffScope.objects.values_list("user", "okrug")) == [(moderator.pk, okrug.pk)]
    assert AuditEntry.objects.filter(action="staff_scope_add").count() == 1
