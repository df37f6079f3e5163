"""After `migrate`, the role groups hold the permissions of every model, old and new."""

import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db


def codenames(role: str) -> set[str]:
    return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))


def test_coordinators_may_manage_mobile_groups_and_coverage_rules():
    assert {"add_mobilegroup", "change_dispatch", "change_coveragerules"} <= codenames(
        "coordinator"
    )


def test_moderators_see_protocol_copies_and_statistics_but_not_contacts():
    moderator = codenames("moderator")
    assert {"view_protocolcopy", "view_stationreconciliation", "add_statisticsrun"} <= moderator
    assert "view_observercontact" not in moderator


def test_administrators_hold_the_permissions_of_the_latest_models():
    assert {"change_mobilegroup", "delete_exportjob", "view_stationflag"} <= codenames(
        "administrator"
    )
