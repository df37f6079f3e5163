"""Headquarters roles as permission groups: moderator, coordinator, lawyer, administrator.

Which admin page or action needs which permission:
- incident lists and pages: view_incident; claim, verify, reject, merge, split: change_incident
- escalate: add_escalation; note: add_incidentnote; ask the observer: add_question
- download an original file: download_original; complaint draft: draft_complaint
- audit log and its export: view_auditentry; observers' contacts: view_observercontact
A moderator or coordinator can further be limited to some okrugs (StaffScope).
"""

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from reports.models import Okrug, StaffScope
from reports.services.audit import audit_record

PLACES = ["view_election", "view_okrug", "view_tik", "view_station", "view_category"]

MODERATOR = [
    *PLACES,
    "view_incident",
    "change_incident",
    "view_report",
    "view_evidence",
    "download_original",
    "view_question",
    "add_question",
    "view_incidentnote",
    "add_incidentnote",
    "view_escalation",
    "add_escalation",
    "view_auditentry",
    "view_observer",
    "view_alert",
    "view_mobilegroup",
    "view_dispatch",
    "view_protocolcopy",
    "view_turnoutcount",
    "view_officialresult",
    "view_stationreconciliation",
    "view_resulttotal",
    "view_resultsimport",
    "view_statisticsrun",
    "add_statisticsrun",
    "view_stationflag",
    "view_quickcountsample",
]

COORDINATOR = [
    *MODERATOR,
    "view_observercontact",
    "add_observer",
    "change_observer",
    "view_assignment",
    "add_assignment",
    "change_assignment",
    "delete_assignment",
    "view_signinlink",
    "add_signinlink",
    "change_signinlink",
    "add_station",
    "change_station",
    "add_tik",
    "change_tik",
    "add_okrug",
    "change_okrug",
    "view_evidenceaccess",
    "add_mobilegroup",
    "change_mobilegroup",
    "add_dispatch",
    "change_dispatch",
    "view_coveragerules",
    "change_coveragerules",
    "view_alertsubscription",
    "add_alertsubscription",
    "change_alertsubscription",
    "add_quickcountsample",
]

LAWYER = [
    *PLACES,
    "view_incident",
    "view_report",
    "view_evidence",
    "download_original",
    "draft_complaint",
    "view_question",
    "view_incidentnote",
    "add_incidentnote",
    "view_escalation",
    "add_escalation",
    "view_auditentry",
    "view_evidenceaccess",
]

# The administrator gets every permission of this app and these of accounts.
ADMINISTRATOR_AUTH = [
    "view_user",
    "add_user",
    "change_user",
    "view_group",
    "add_group",
    "change_group",
]

ROLES = {"moderator": MODERATOR, "coordinator": COORDINATOR, "lawyer": LAWYER}
ADMINISTRATOR = "administrator"


@transaction.atomic
def role_groups_ensure(*, apps: Apps = global_apps) -> list[str]:
    """Create or update the four role groups so they hold exactly their permissions.

    Safe to run again at any time: data migrations, `manage.py role_groups` and every
    `migrate` (post_migrate, see apps.py) call it. Permissions are created first, since a
    data migration runs before Django's post-migrate signal would create them. `apps` is the
    registry to use: the historical one inside a migration, where models added by later
    migrations do not exist yet and their permissions are left to the post-migrate call.
    Returns the group names.
    """
    for label in ("auth", "contenttypes", "reports"):
        app_config = apps.get_app_config(label)
        # A migration's app configs are stubs without models_module; create_permissions
        # skips apps without one.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    reports = permission_model.objects.filter(content_type__app_label="reports")
    wanted = {role: reports.filter(codename__in=codenames) for role, codenames in ROLES.items()}
    wanted[ADMINISTRATOR] = reports | permission_model.objects.filter(
        content_type__app_label="auth", codename__in=ADMINISTRATOR_AUTH
    )
    for role, permissions in wanted.items():
        expected = set(ROLES.get(role, ())) - set(permissions.values_list("codename", flat=True))
        if expected and apps is global_apps:
            raise LookupError(f"permissions missing for role {role}: {sorted(expected)}")
        group, _ = group_model.objects.get_or_create(name=role)
        group.permissions.set(permissions)
    return list(wanted)


@transaction.atomic
def staff_scope_add(*, user: AbstractBaseUser, okrug: Okrug, actor: AbstractBaseUser) -> StaffScope:
    """Limit a staff member to an okrug (adding to the okrugs they already have)."""
    scope, created = StaffScope.objects.get_or_create(user=user, okrug=okrug)
    if created:
        audit_record(actor=actor, action="staff_scope_add", obj=scope, after=scope_state(scope))
    return scope


@transaction.atomic
def staff_scope_remove(*, scope: StaffScope, actor: AbstractBaseUser) -> None:
    """Take an okrug from a staff member's limits. Without any left, they see every okrug."""
    before = scope_state(scope)
    audit_record(actor=actor, action="staff_scope_remove", obj=scope, before=before)
    scope.delete()


def scope_state(scope: StaffScope) -> dict:
    return {"user": scope.user.get_username(), "okrug": scope.okrug_id}


def permission_names(permissions) -> list[str]:
    """`app.codename` of each permission of a queryset, sorted."""
    pairs = permissions.values_list("content_type__app_label", "codename")
    return sorted(f"{app}.{codename}" for app, codename in pairs)


def user_roles_state(user: AbstractBaseUser) -> dict:
    """What decides what a person may do: active and staff flags, groups, own permissions."""
    return {
        "username": user.get_username(),
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "permissions": permission_names(user.user_permissions),
    }


def group_state(group) -> dict:
    return {"name": group.name, "permissions": permission_names(group.permissions)}


def _change_record(obj, *, state, action: str, before: dict | None, actor) -> bool:
    after = state(obj)
    if after == before:
        return False
    audit_record(actor=actor, action=action, obj=obj, before=before, after=after)
    return True


@transaction.atomic
def user_roles_record(
    *, user: AbstractBaseUser, before: dict | None, actor: AbstractBaseUser | None
) -> bool:
    """Log who gave whom which role, once the change is saved; False when roles are the same.

    `before` is user_roles_state() read before the change (None for a new account).
    """
    return _change_record(
        user, state=user_roles_state, action="user_roles_change", before=before, actor=actor
    )


@transaction.atomic
def group_permissions_record(*, group, before: dict | None, actor: AbstractBaseUser | None) -> bool:
    """Log a change of what a role (group) may do; False when nothing changed."""
    return _change_record(
        group, state=group_state, action="group_change", before=before, actor=actor
    )


@transaction.atomic
def user_delete(*, user: AbstractBaseUser, actor: AbstractBaseUser | None) -> None:
    """Delete an account, keeping in the log what it was allowed to do."""
    audit_record(actor=actor, action="user_delete", obj=user, before=user_roles_state(user))
    user.delete()


@transaction.atomic
def group_delete(*, group, actor: AbstractBaseUser | None) -> None:
    """Delete a role group, keeping in the log what it allowed."""
    audit_record(actor=actor, action="group_delete", obj=group, before=group_state(group))
    group.delete()
