"""The admin site of headquarters: its home groups the tables by the task they serve, the
day's work first, instead of every table of the app in alphabetical order.

It lives outside `reports.admin` on purpose: Django creates the site when something first
registers on it, and importing the admin package registers everything.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from reports.models import ReviewStatus
from reports.selectors import answer_waiting, incidents_for, reports_for

# Each group: its title and its tables (model names), in the order a person needs them.
GROUPS = [
    (_("Election day: incidents and reports"), [
        "incident", "report", "evidence", "question", "escalation", "alert", "alertsubscription",
    ]),
    (_("Coverage and mobile groups"), [
        "assignment", "mobilegroup", "dispatch", "stationcoverage", "coveragerules",
    ]),
    (_("Counts, protocols and results"), [
        "turnoutcount", "protocolcopy", "stationreconciliation", "officialresult",
        "resulttotal", "resultsimport", "statisticsrun", "stationflag",
    ]),
    (_("Places and people"), [
        "election", "okrug", "tik", "station", "observer", "observercontact", "category",
        "user", "group",
    ]),
    (_("Partners and records"), [
        "partnertoken", "exportjob", "auditentry", "evidenceaccess",
    ]),
]  # fmt: skip


class HeadquartersSite(admin.AdminSite):
    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        models = {model["object_name"].lower(): model for app in apps for model in app["models"]}
        grouped, placed = [], set()
        for title, names in GROUPS:
            members = [models[name] for name in names if name in models]
            placed.update(name for name in names if name in models)
            if members:
                grouped.append(
                    {"name": title, "app_label": "reports", "app_url": "", "has_module_perms": True,
                     "models": members}
                )  # fmt: skip
        rest = [model for name, model in models.items() if name not in placed]
        if rest:
            grouped.append(
                {"name": _("Other tables"), "app_label": "reports", "app_url": "",
                 "has_module_perms": True, "models": rest}
            )  # fmt: skip
        return grouped

    def index(self, request, extra_context=None):
        """The day's work at a glance, for staff who may see incidents: counted in their
        okrugs, each a link to the list it counts."""
        counts = {}
        if request.user.has_perm("reports.view_incident"):
            incidents = incidents_for(request.user)
            counts = {
                "new": incidents.filter(status=ReviewStatus.NEW).count(),
                "answers": incidents.filter(answer_waiting()).count(),
                "quarantined": reports_for(request.user)
                .filter(quarantined_at__isnull=False)
                .count(),
            }
        return super().index(request, {"today": counts, **(extra_context or {})})
