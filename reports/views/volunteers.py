"""The volunteer pages: sign-in, the incident form, "My reports" and the citizen form.

Every page works without JavaScript (Post/Redirect/Get). The script (static/reports/report.js)
posts the same forms with `Accept: application/json` and gets JSON back, so it can keep a
report queued on the phone until the server has answered; incident reports it sends to
report_send with the phone's send key (services.signin) instead of the session.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.db import connection
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.core import get_usage, is_ratelimited

from reports import health
from reports.domain.uploads import EvidenceLimitUploadHandler
from reports.forms.reports import (
    AnswerForm,
    CitizenReportForm,
    ReportForm,
    SignInCodeForm,
    report_input_direct,
)
from reports.middleware import wants_json
from reports.models import (
    Channel,
    Checkpoint,
    Election,
    Observer,
    Question,
    Report,
    SignInLink,
    Station,
)
from reports.selectors import incident_decision
from reports.services.evidence import FileOutcome, evidence_attach_all
from reports.services.questions import question_answer
from reports.services.signin import (
    SEND_KEY_SESSION_KEY,
    SIGNIN_LINK_SESSION_KEY,
    SendKey,
    send_key_issue,
    send_key_read,
    send_key_sender,
    sender_election,
    signin_link_use,
    signin_session_forget,
    signin_session_record,
)
from reports.services.submission import ReportConflict, ReportInput, SenderGone, report_submit

log = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    database = "ok" if health.database_ok() else "down"
    broker = health.broker_state()
    status = 200 if database == "ok" else 503
    return JsonResponse({"database": database, "broker": broker}, status=status)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"observer": observer_of(request)})


# Helpers


def observer_of(request: HttpRequest) -> Observer | None:
    if not request.user.is_authenticated:
        return None
    return getattr(request.user, "observer", None)


def observer_required(view: Callable) -> Callable:
    """Let only a signed-in observer through, as request.observer."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        observer = observer_of(request)
        if observer is None:
            if wants_json(request):
                return signed_out_answer()
            return redirect(f"{reverse('reports:signin')}?next={request.path}")
        request.observer = observer
        with timezone.override(observer.election.tz):
            return view(request, *args, **kwargs)

    return wrapper


def signed_out_answer() -> JsonResponse:
    message = _("You are signed out. Open your personal link again.")
    return JsonResponse({"error": message, "signin": True}, status=403)


def rate_limited(request: HttpRequest, *, group: str, rate: str, increment: bool) -> bool:
    """Per-address limit. While Redis is down it counts per process (reports.limits), so an
    outage never stops a report and the anonymous doors keep a floor of protection."""
    return is_ratelimited(request, group=group, key="ip", rate=rate, increment=increment)


def with_evidence_limits(view: Callable) -> Callable:
    """Install the upload size/count limits before anything reads the request body; the CSRF
    check, which reads it, therefore runs inside (Django's documented pattern)."""
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        request.upload_handlers.insert(0, EvidenceLimitUploadHandler(request))
        return protected(request, *args, **kwargs)

    return wrapper


# Signing in


def sign_in(request: HttpRequest, link: SignInLink) -> None:
    signin_session_forget(session_key=request.session.session_key)
    login(request, link.observer.user, backend=settings.AUTHENTICATION_BACKENDS[0])
    request.session[SIGNIN_LINK_SESSION_KEY] = link.pk
    request.session.save()
    record = signin_session_record(link=link, session_key=request.session.session_key)
    request.session[SEND_KEY_SESSION_KEY] = send_key_issue(record)


def signin_failures_exhausted(request: HttpRequest, kind: str) -> bool:
    """Whether this address has failed SIGNIN_RATE times at signing in by `kind` ("link" or
    "code") in the current period: exactly that many, the next attempt is refused."""
    usage = get_usage(request, group=f"signin-{kind}", key="ip", rate=settings.SIGNIN_RATE)
    return usage is not None and usage["count"] >= usage["limit"]


def signin_failure_count(request: HttpRequest, kind: str) -> None:
    rate_limited(request, group=f"signin-{kind}", rate=settings.SIGNIN_RATE, increment=True)


@never_cache
def signin_token(request: HttpRequest, token: str) -> HttpResponse:
    """The personal link: signs in and goes to the form, so the token leaves the address bar.

    A valid link always signs in: its 192-bit token cannot be guessed, so no limit guards
    it, and nobody's failures at the same address (a carrier's NAT) can lock it out. Bad
    links count apart from bad codes and only ever get 429 instead of 404.
    """
    link = signin_link_use(token=token)
    if link is not None:
        sign_in(request, link)
        return redirect("reports:report_new")
    if signin_failures_exhausted(request, "link"):
        return signin_page(request, SignInCodeForm(), _("Too many attempts. Wait a minute."), 429)
    signin_failure_count(request, "link")
    message = _("This link is not valid or was revoked. Ask your coordinator for a new one.")
    return signin_page(request, SignInCodeForm(), message, 404)


@never_cache
def signin_code(request: HttpRequest) -> HttpResponse:
    """The short code typed by hand. Eight characters can be guessed, so after SIGNIN_RATE
    wrong codes from one address no code is checked from it for the rest of the period;
    only failures count, bad links do not, and the personal link still works."""
    form = SignInCodeForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return signin_page(request, form)
    if signin_failures_exhausted(request, "code"):
        message = _(
            "Too many wrong codes from your network. Wait a minute, or open your personal link."
        )
        return signin_page(request, form, message, 429)
    link = signin_link_use(code=form.cleaned_data["code"])
    if link is None:
        signin_failure_count(request, "code")
        form.add_error("code", _("This code is not valid or was revoked."))
        return signin_page(request, form)
    sign_in(request, link)
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("reports:report_new")
    return redirect(next_url)


def signin_page(
    request: HttpRequest, form: SignInCodeForm, error: str = "", status: int = 200
) -> HttpResponse:
    return render(request, "volunteer/signin.html", {"form": form, "error": error}, status=status)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    signin_session_forget(session_key=request.session.session_key)
    logout(request)
    messages.info(request, _("You are signed out. Your personal link still works."))
    return redirect("reports:home")


# Reporting


@with_evidence_limits
@observer_required
def report_new(request: HttpRequest) -> HttpResponse:
    observer = request.observer
    form = ReportForm(
        request.POST or None,
        election=observer.election,
        assigned=list(observer.stations.order_by("number")),
    )
    return observer_report_handle(request, form, observer)


def observer_report_handle(
    request: HttpRequest, form: ReportForm, observer: Observer
) -> HttpResponse:
    """An observer's incident report, from the form (report_new) or its script (report_send)."""
    return report_form_handle(
        request,
        form,
        observer=observer,
        template="volunteer/report_form.html",
        done_url=observer_report_url,
    )


def observer_report_url(report: Report) -> str:
    return reverse("reports:report_detail", args=[report.uuid])


SEND_KEY_SCHEME = "SendKey "


@csrf_exempt  # authenticated by a header no other site can set, never by a cookie
@require_POST
def report_send(request: HttpRequest) -> HttpResponse:
    """The form's script sends incident reports here (static/reports/report.js): the same
    fields, files and JSON answers as report_new, but the observer is found by the send key
    (services.signin) instead of the session. A plain report from the observer's station
    is stored in one round trip (report_send_direct); anything else takes the full way: one
    query finds the observer and the station, then the form."""
    key = send_key_read(request.headers.get("Authorization", "").removeprefix(SEND_KEY_SCHEME))
    if key is None:
        return signed_out_answer()  # before reading a byte of the body
    request.upload_handlers.insert(0, EvidenceLimitUploadHandler(request))
    number = station_number_sent(request.POST)
    if key.observer_id is not None and number is not None and wants_json(request):
        answer = report_send_direct(request, key, number)
        if answer is not None:
            return answer
    sender = send_key_sender(key.session_id, station_number=number)
    if sender is None:
        return signed_out_answer()
    observer = sender.observer
    # Any station of the election is accepted by number: one queued before a new assignment
    # was the observer's when they wrote the report.
    assigned = []
    if sender.station_id is not None:
        assigned = [Station(pk=sender.station_id, election=observer.election, number=number)]
    with timezone.override(observer.election.tz):
        form = ReportForm(request.POST, election=observer.election, assigned=assigned)
        return observer_report_handle(request, form, observer)


def report_send_direct(request: HttpRequest, key: SendKey, number: int) -> HttpResponse | None:
    """A report whose fields are all valid, cleaned against per-process copies of the key's
    election and its stations, stored by the statement that also checks the key's session
    (report_submit); None when the full way must decide and say why."""
    election, stations = sender_election(key.election_id)
    station_id = stations.get(number)
    if (
        election is None
        or station_id is None
        or not connection.features.can_return_columns_from_insert  # the check needs RETURNING
    ):
        return None
    station = Station(pk=station_id, election=election, number=number)
    with timezone.override(election.tz):
        data = report_input_direct(request.POST, election=election, assigned=[station])
        if data is None:
            return None
        observer = Observer(pk=key.observer_id, election=election)
        return report_accept(
            request, data, observer=observer, done_url=observer_report_url,
            refused=json_refusal, send_key=key,
        )  # fmt: skip


def station_number_sent(data) -> int | None:
    """The station a report names: one of the observer's (`station`) or typed in."""
    for name in ("station", "station_number"):
        value = data.get(name, "")
        if value.isdigit() and len(value) <= 5:
            return int(value)
    return None


@with_evidence_limits
def citizen_new(request: HttpRequest) -> HttpResponse:
    election = Election.objects.filter(is_active=True).order_by("-date").first()
    if election is None:
        raise Http404(_("No election is open for reports."))
    with timezone.override(election.tz):
        form = CitizenReportForm(request.POST or None, election=election)
        if request.method == "POST" and rate_limited(
            request, group="citizen", rate=settings.CITIZEN_REPORT_RATE, increment=True
        ):
            return refusal(
                request,
                form,
                "volunteer/citizen_form.html",
                _("Too many reports from your network. Please try again later."),
                429,
            )
        return report_form_handle(
            request,
            form,
            observer=None,
            template="volunteer/citizen_form.html",
            done_url=lambda report: reverse("reports:citizen_thanks"),
        )


def citizen_thanks(request: HttpRequest) -> HttpResponse:
    received_messages_from_address(request)
    return render(request, "volunteer/citizen_thanks.html")


def report_form_handle(
    request: HttpRequest,
    form: ReportForm,
    *,
    observer: Observer | None,
    template: str,
    done_url: Callable[[Report], str],
) -> HttpResponse:
    """The form's page, or its errors, or the valid report handed to report_accept."""
    if request.method != "POST":
        return form_page(request, template, form)
    if not form.is_valid():
        if wants_json(request):
            errors = {
                name: [e["message"] for e in items]
                for name, items in form.errors.get_json_data().items()
            }
            return JsonResponse({"errors": errors}, status=400)
        return form_page(request, template, form, status=400, files_lost=bool(request.FILES))

    def conflict_refused(message: str) -> HttpResponse:
        # Whatever is sent next from this page is a new report: give it a new identifier.
        form.data = form.data.copy()
        form.data["uuid"] = str(uuid.uuid4())
        return refusal(request, form, template, message, 409)

    return report_accept(
        request, form.report_input(), observer=observer, done_url=done_url,
        refused=conflict_refused,
    )  # fmt: skip


def report_accept(
    request: HttpRequest,
    data: ReportInput,
    *,
    observer: Observer | None,
    done_url: Callable[[Report], str],
    refused: Callable[[str], HttpResponse],
    send_key: SendKey | None = None,
) -> HttpResponse:
    """Submit a valid report exactly once, then attach the files to the committed report."""
    channel = Channel.WEB if observer else Channel.CITIZEN
    try:
        report, created = report_submit(
            data=data, observer=observer, channel=channel, send_key=send_key
        )
    except ReportConflict:
        return refused(str(ReportConflict.message))
    except SenderGone:
        return signed_out_answer()
    outcomes = evidence_attach_all(
        report=report,
        uploads=request.FILES.getlist("evidence"),
        skipped=getattr(request, "evidence_skipped", []),
    )
    return submission_done(request, created=created, outcomes=outcomes, url=done_url(report))


def json_refusal(message: str, status: int = 409) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def refusal(
    request: HttpRequest, form: ReportForm, template: str, message: str, status: int
) -> HttpResponse:
    """Refuse a submission with a message, keeping what was typed."""
    if wants_json(request):
        return json_refusal(message, status)
    return form_page(request, template, form, status=status, refusal=message)


def form_page(
    request: HttpRequest, template: str, form: ReportForm, status: int = 200, **extra
) -> HttpResponse:
    context = {
        "form": form,
        "max_bytes": settings.EVIDENCE_MAX_BYTES,
        "max_files": settings.EVIDENCE_MAX_FILES,
        **extra,
    }
    return render(request, template, context, status=status)


def submission_done(
    request: HttpRequest, *, created: bool, outcomes: list[FileOutcome], url: str
) -> HttpResponse:
    accepted = [outcome for outcome in outcomes if outcome.accepted]
    refused = [outcome for outcome in outcomes if not outcome.accepted]
    if wants_json(request):
        files = [{"name": o.name, "accepted": o.accepted, "message": o.message} for o in outcomes]
        status = "received" if created else "duplicate"
        if not refused:
            # The script opens `url` next, and that page says "received" from its address.
            # A message cookie would grow with every report the phone's outbox sends
            # without a page in between, and cost every later request its decoding.
            query = urlencode({RECEIVED_PARAM: status, FILES_PARAM: len(accepted)})
            url = f"{url}?{query}"
        else:
            received_messages(request, created=created, attached=len(accepted))
            refusal_messages(request, refused)
        body = {"status": status, "url": url, "files": files}
        return JsonResponse(body, status=201 if created else 200)
    received_messages(request, created=created, attached=len(accepted))
    refusal_messages(request, refused)
    return redirect(url)


RECEIVED_PARAM = "received"
FILES_PARAM = "files"


def received_messages(request: HttpRequest, *, created: bool, attached: int) -> None:
    if created:
        messages.success(request, _("Report received. Thank you!"))
    else:
        messages.info(request, _("This report had already been received; it was not sent twice."))
    if attached:
        messages.success(
            request,
            ngettext("%(count)d file attached.", "%(count)d files attached.", attached)
            % {"count": attached},
        )


def refusal_messages(request: HttpRequest, refused: list[FileOutcome]) -> None:
    for outcome in refused:
        messages.error(request, outcome.message)
    if refused:
        messages.warning(
            request, _("The report itself was saved; only the files named above were refused.")
        )


def received_messages_from_address(request: HttpRequest) -> None:
    """The page the script opens after a report was received says so (submission_done)."""
    status = request.GET.get(RECEIVED_PARAM)
    if status not in ("received", "duplicate"):
        return
    attached = request.GET.get(FILES_PARAM, "")
    received_messages(
        request,
        created=status == "received",
        attached=int(attached) if attached.isdigit() and len(attached) < 3 else 0,
    )


# My reports


@observer_required
def my_reports(request: HttpRequest) -> HttpResponse:
    reports = (
        Report.objects.filter(observer=request.observer)
        .select_related("station", "category")
        .annotate(file_count=Count("evidence", distinct=True))[:200]
    )
    questions = questions_waiting(request.observer)
    context = {"reports": reports, "questions": questions_with_forms(questions)}
    return render(request, "volunteer/my_reports.html", context)


def questions_waiting(observer: Observer) -> QuerySet[Question]:
    """The observer's unanswered questions, the longest waiting first."""
    return (
        Question.objects.filter(report__observer=observer, answered_at__isnull=True)
        .select_related("report__station", "report__category")
        .order_by("asked_at")
    )


# How near a turnout checkpoint (10:00, 12:00, 15:00, 18:00) the count is what is due.
CHECKPOINT_DUE = timedelta(minutes=45)


def task_due(election: Election, now: datetime) -> str:
    """What an observer should do now: check in until half an hour after polls open, send the
    turnout count near a checkpoint, the protocol copy once polls have closed."""
    if now >= election.polls_close_at():
        return "protocols:copy_new"
    if now < election.polls_open_at() + timedelta(minutes=30):
        return "coverage:checkin"
    checkpoints = (election.local_datetime(time(int(hour))) for hour in Checkpoint.values)
    if any(abs(now - checkpoint) <= CHECKPOINT_DUE for checkpoint in checkpoints):
        return "protocols:turnout_new"
    return "reports:report_new"


OBSERVER_PAGES = [
    ("reports:report_new", _lazy("New report")),
    ("coverage:checkin", _lazy("Check in")),
    ("protocols:turnout_new", _lazy("Turnout")),
    ("protocols:copy_new", _lazy("Protocol copy")),
    ("reports:my_reports", _lazy("My reports")),
    ("protocols:mine", _lazy("My counts")),
]


def observer_navigation(request: HttpRequest) -> dict:
    """For every page (a context processor): one navigation for every observer page, what is
    due now first; and how many questions wait and where the first one is."""
    observer = getattr(getattr(request, "user", None), "observer", None)
    if observer is None:
        return {}
    due = task_due(observer.election, timezone.now())
    pages = sorted(OBSERVER_PAGES, key=lambda page: page[0] != due)
    waiting, first_url = questions_waiting_link(observer)
    return {
        "observer_pages": [
            {"url": reverse(name), "label": label, "due": name == due} for name, label in pages
        ],
        "questions_waiting": waiting,
        "first_question_url": first_url,
    }


def questions_waiting_link(observer: Observer) -> tuple[int, str]:
    """How many questions wait for the observer, and the address of the first one."""
    first = questions_waiting(observer).values_list("report__uuid", "pk").first()
    if first is None:
        return 0, ""
    url = reverse("reports:report_detail", args=[first[0]]) + f"#q{first[1]}"
    return questions_waiting(observer).count(), url


@observer_required
def questions_json(request: HttpRequest) -> JsonResponse:
    """What the open form page polls: the questions waiting, and the server's clock (the
    page compares it with the phone's)."""
    waiting, first_url = questions_waiting_link(request.observer)
    response = JsonResponse(
        {"waiting": waiting, "first_url": first_url, "now": int(timezone.now().timestamp() * 1000)}
    )
    response["Cache-Control"] = "no-store"
    return response


@observer_required
def report_detail(request: HttpRequest, report_uuid: str) -> HttpResponse:
    report = get_object_or_404(
        Report.objects.select_related("station", "category"),
        uuid=report_uuid,
        observer=request.observer,
    )
    received_messages_from_address(request)
    return report_detail_page(request, report)


def report_detail_page(
    request: HttpRequest,
    report: Report,
    bound: dict[int, AnswerForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "report": report,
        "decision": report.incident_id and incident_decision(report.incident_id),
        "evidence": report.evidence.all(),
        "questions": questions_with_forms(report.questions.all(), bound),
    }
    return render(request, "volunteer/report_detail.html", context, status=status)


def questions_with_forms(
    questions, bound: dict[int, AnswerForm] | None = None
) -> list[tuple[Question, AnswerForm | None]]:
    """Each question with the form to answer it (None once answered)."""
    bound = bound or {}
    return [
        (q, None if q.answered_at else bound.get(q.pk, AnswerForm(prefix=f"q{q.pk}")))
        for q in questions
    ]


@require_POST
@observer_required
def question_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    question = get_object_or_404(
        Question.objects.select_related("report__station", "report__category"),
        pk=pk,
        report__observer=request.observer,
    )
    form = AnswerForm(request.POST, prefix=f"q{pk}")
    if not form.is_valid():
        return report_detail_page(request, question.report, bound={pk: form}, status=400)
    if question_answer(
        question=question, observer=request.observer, answer=form.cleaned_data["answer"]
    ):
        messages.success(request, _("Your answer was sent to headquarters."))
    else:
        messages.info(request, _("This question had already been answered."))
    return redirect("reports:report_detail", question.report.uuid)


# The service worker that lets the form open without a connection


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the site root so that it may control every page (its scope is /)."""
    response = render(request, "volunteer/sw.js", content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    return response
