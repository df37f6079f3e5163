"""The incident page's decision buttons, the complaint draft and original-file downloads.

Forms only validate; each decision calls one service of `reports.services.incidents`, and a
refusal (someone else holds the incident, outside the okrugs, nothing to do) becomes an
error message on the incident page.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from reports.admin.base import reporter_label
from reports.domain.complaints import COMPLAINT_STATUSES, Addressee, complaint_draft
from reports.models import Escalation, Evidence, Incident, Report
from reports.selectors import claim_holder, evidence_for, incident_audit_entries, incidents_for
from reports.services.incidents import (
    DecisionRefused,
    evidence_download_log,
    incident_claim,
    incident_escalate,
    incident_merge,
    incident_note,
    incident_reject,
    incident_release,
    incident_split,
    incident_verify,
    question_ask,
)
from reports.views.originals import original_response


class DecisionForm(forms.Form):
    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.incident = incident


class VerifyForm(DecisionForm):
    note = forms.CharField(label=gettext_lazy("note"), max_length=2000, required=False)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class IncidentRejectForm(DecisionForm, RejectForm):
    pass


class EscalateForm(DecisionForm):
    kind = forms.ChoiceField(label=gettext_lazy("escalate to"), choices=Escalation.Kind.choices)
    note = forms.CharField(label=gettext_lazy("note"), max_length=2000, required=False)


class NoteForm(DecisionForm):
    text = forms.CharField(
        label=gettext_lazy("note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class QuestionForm(DecisionForm):
    report = forms.ModelChoiceField(label=gettext_lazy("report"), queryset=Report.objects.none())
    text = forms.CharField(
        label=gettext_lazy("question"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report"].queryset = self.incident.reports.filter(
            observer__isnull=False
        ).select_related("observer")
        self.fields["report"].label_from_instance = lambda report: (
            _("%(time)s, %(pseudonym)s")
            % {
                "time": timezone.localtime(report.received_at).strftime("%H:%M"),
                "pseudonym": report.observer.pseudonym,
            }
        )
        asked = self.fields["report"].queryset
        if not self.is_bound and len(asked[:2]) == 1:
            self.initial["report"] = asked[0].pk  # one observer's report: nothing to choose


class SplitForm(DecisionForm):
    reports = forms.ModelMultipleChoiceField(
        label=gettext_lazy("reports to move into a new incident"),
        queryset=Report.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reports"].queryset = self.incident.reports.select_related("observer")
        self.fields["reports"].label_from_instance = lambda report: (
            f"{timezone.localtime(report.received_at):%H:%M} {report.category_id} "
            f"{report.description[:60]}"
        )


class MergeForm(DecisionForm):
    numbers = forms.CharField(
        label=gettext_lazy("numbers of the incidents to merge into this one"),
        max_length=500,
        help_text=gettext_lazy("Separated by commas or spaces, e.g. 12, 15"),
    )

    def clean_numbers(self) -> list[int]:
        parts = self.cleaned_data["numbers"].replace(",", " ").replace("#", " ").split()
        if not parts or not all(part.isdigit() for part in parts):
            raise forms.ValidationError(_("Give incident numbers, e.g. 12, 15."))
        return [int(part) for part in parts]


@dataclass(frozen=True)
class Decision:
    permission: str
    form: type[DecisionForm] | None
    run: Callable[[Incident, AbstractBaseUser, dict], str]


def run_claim(incident, actor, data) -> str:
    incident = incident_claim(incident=incident, actor=actor)
    until = timezone.localtime(incident.claimed_until).strftime("%H:%M")
    return _("You hold incident #%(id)s until %(until)s.") % {"id": incident.pk, "until": until}


def run_release(incident, actor, data) -> str:
    incident_release(incident=incident, actor=actor)
    return _("You released incident #%(id)s.") % {"id": incident.pk}


def run_verify(incident, actor, data) -> str:
    incident_verify(incident=incident, actor=actor, note=data["note"])
    return _("Incident #%(id)s verified.") % {"id": incident.pk}


def run_reject(incident, actor, data) -> str:
    incident_reject(incident=incident, actor=actor, reason=data["reason"])
    return _("Incident #%(id)s rejected.") % {"id": incident.pk}


def run_escalate(incident, actor, data) -> str:
    escalation = incident_escalate(
        incident=incident, actor=actor, kind=data["kind"], note=data["note"]
    )
    return _("Incident #%(id)s escalated: %(kind)s.") % {
        "id": incident.pk,
        "kind": escalation.get_kind_display(),
    }


def run_note(incident, actor, data) -> str:
    incident_note(incident=incident, actor=actor, text=data["text"])
    return _("Note added.")


def run_question(incident, actor, data) -> str:
    question_ask(report=data["report"], actor=actor, text=data["text"])
    return _("Question sent to %(pseudonym)s.") % {"pseudonym": data["report"].observer.pseudonym}


def run_split(incident, actor, data) -> str:
    new = incident_split(
        incident=incident, report_ids=[report.pk for report in data["reports"]], actor=actor
    )
    return _("Reports moved into the new incident #%(id)s.") % {"id": new.pk}


def run_merge(incident, actor, data) -> str:
    others = list(incidents_for(actor).filter(pk__in=data["numbers"]))
    missing = set(data["numbers"]) - {other.pk for other in others}
    if missing:
        raise DecisionRefused(
            _("No incident you can see has the number %(numbers)s.")
            % {"numbers": ", ".join(f"#{number}" for number in sorted(missing))}
        )
    target = incident_merge(target=incident, others=others, actor=actor)
    return _("Merged into #%(id)s.") % {"id": target.pk}


DECISIONS = {
    "claim": Decision("reports.change_incident", None, run_claim),
    "release": Decision("reports.change_incident", None, run_release),
    "verify": Decision("reports.change_incident", VerifyForm, run_verify),
    "reject": Decision("reports.change_incident", IncidentRejectForm, run_reject),
    "escalate": Decision("reports.add_escalation", EscalateForm, run_escalate),
    "note": Decision("reports.add_incidentnote", NoteForm, run_note),
    "question": Decision("reports.add_question", QuestionForm, run_question),
    "split": Decision("reports.change_incident", SplitForm, run_split),
    "merge": Decision("reports.change_incident", MergeForm, run_merge),
}


def incident_url(incident_id: int) -> str:
    return reverse("admin:reports_incident_change", args=[incident_id])


@require_POST
def decide(request: HttpRequest, object_id: int, name: str) -> HttpResponse:
    """Make one decision on one incident and go back to its page with the outcome."""
    decision = DECISIONS.get(name)
    if decision is None:
        raise Http404
    if not request.user.has_perm(decision.permission):
        raise PermissionDenied
    incident = get_object_or_404(incidents_for(request.user), pk=object_id)
    data = {}
    if decision.form is not None:
        form = decision.form(request.POST, incident=incident)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return redirect(incident_url(incident.pk))
        data = form.cleaned_data
    try:
        outcome = decision.run(incident, request.user, data)
    except DecisionRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, outcome)
    return redirect(incident_url(incident.pk))


def incident_facts(incident: Incident) -> dict:
    """What happened, where and when, before any button: the station with its address, TIK
    and okrug; every report with its reporter's role and trust, its text and the questions
    asked about it with their answers; the photos as their EXIF-free public copies, the same
    photo (one SHA-256) sent in several reports marked as one."""
    reports = list(
        Report.objects.filter(incident=incident)
        .select_related("observer", "station__tik", "station__okrug")
        .prefetch_related("questions")
        .order_by("received_at", "pk")
    )
    photos = list(
        Evidence.objects.filter(report__incident=incident, kind=Evidence.Kind.PHOTO)
        .exclude(public_path="")
        .order_by("received_at", "pk")
    )
    senders = Counter(photo.sha256 for photo in photos)
    shown = {}
    for photo in photos:
        shown.setdefault(photo.sha256, photo).sent_times = senders[photo.sha256]
    station = incident.station
    return {
        "facts_station": station,
        "facts_reports": [(report, reporter_label(report)) for report in reports],
        "facts_photos": list(shown.values()),
    }


def panel_context(request: HttpRequest, object_id: str) -> dict:
    """What the incident page shows beside the fields: claim, decisions, evidence, audit."""
    incident = (
        incidents_for(request.user)
        .select_related("claimed_by")
        .filter(pk=int(object_id) if str(object_id).isdigit() else None)
        .first()
    )
    if incident is None:
        return {}
    holder = claim_holder(incident)
    evidence = Evidence.objects.filter(report__incident=incident).order_by("received_at")
    return {
        **incident_facts(incident),
        "incident": incident,
        "holder": holder,
        "held_by_me": holder is not None and holder.pk == request.user.pk,
        "held_by_other": holder is not None and holder.pk != request.user.pk,
        "forms": {
            name: decision.form(incident=incident)
            for name, decision in DECISIONS.items()
            if decision.form is not None
        },
        "evidence": evidence,
        "audit_entries": incident_audit_entries(incident.pk).select_related("actor"),
        "audit_url": reverse("admin:reports_auditentry_changelist")
        + f"?object_type=incident&object_id={incident.pk}",
        "complaint_ready": incident.status in COMPLAINT_STATUSES,
        "addressees": Addressee.choices,
    }


def complaint(request: HttpRequest, object_id: int) -> HttpResponse:
    """A printable complaint in Russian, whatever the panel's language."""
    if not request.user.has_perm("reports.draft_complaint"):
        raise PermissionDenied
    incident = get_object_or_404(incidents_for(request.user), pk=object_id)
    if incident.status not in COMPLAINT_STATUSES:
        messages.error(request, _("Verify the incident before drafting a complaint."))
        return redirect(incident_url(incident.pk))
    addressee = request.GET.get("to", Addressee.STATION)
    if addressee not in Addressee.values:
        raise Http404
    with translation.override("ru"):
        draft = complaint_draft(incident=incident, addressee=addressee)
        return render(request, "admin/reports/complaint.html", {"draft": draft})


def evidence_original(request: HttpRequest, object_id: int) -> FileResponse:
    """Stream an untouched original, after logging who downloads it (chain of custody)."""
    if not request.user.has_perm("reports.download_original"):
        raise PermissionDenied
    evidence = get_object_or_404(
        evidence_for(request.user).select_related("report__station"), pk=object_id
    )
    return original_response(
        relative_path=evidence.original_path,
        log=lambda: evidence_download_log(
            evidence=evidence, actor=request.user, ip_address=request.META.get("REMOTE_ADDR")
        ),
        filename=evidence.original_name or f"{evidence.sha256}",
        content_type=evidence.content_type,
        sha256=evidence.sha256,
    )
