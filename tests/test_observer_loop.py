"""The election-day loop as each side sees it: the observer learns of a question at once and
sees why a report was rejected; the moderator sees the facts first, the answers, the photos
as their public copies (the same photo once), and which incidents have an answer waiting."""

import pytest
from django.utils import timezone

from reports.models import Evidence, Report, ReporterRole
from reports.services.aggregation import reports_aggregate
from reports.services.incidents import incident_reject, question_ask
from reports.services.questions import question_answer

from .moderation_fixtures import client_for, evidence_make, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(observer_client, report_form_data) -> Report:
    data = report_form_data(description="Вброс у второй урны")
    observer_client.post("/report/", data)
    report = Report.objects.get(uuid=data["uuid"])
    reports_aggregate(report_ids=[report.pk])
    report.refresh_from_db()
    return report


@pytest.fixture
def moderator(stations):
    return staff_user("moderator", "masha")


def test_every_observer_page_counts_the_waiting_questions_and_links_the_first(
    observer_client, report, moderator
):
    question = question_ask(report=report, actor=moderator, text="Сколько бюллетеней?")

    page = observer_client.get("/report/").content.decode()
    data = observer_client.get("/my/questions.json").json()

    link = page.split('class="questions-waiting"')[0].rsplit("<a ", 1)[1]
    assert f"/my/{report.uuid}/#q{question.pk}" in link
    assert "data-questions-count>1</span>" in page
    assert (data["waiting"], data["first_url"]) == (1, f"/my/{report.uuid}/#q{question.pk}")
    assert abs(data["now"] / 1000 - timezone.now().timestamp()) < 60


def test_no_question_no_sign(observer_client, report):
    page = observer_client.get("/my/").content.decode()
    assert 'class="questions-waiting" data-questions-url="/my/questions.json" hidden' in page
    assert observer_client.get("/my/questions.json").json()["waiting"] == 0


def test_a_rejected_report_says_why_and_when(observer_client, report, moderator):
    incident_reject(incident=report.incident, actor=moderator, reason="Дубль сообщения №17")

    page = observer_client.get(f"/my/{report.uuid}/").content.decode()

    assert "Дубль сообщения №17" in page
    assert "решение принято" in page
    assert "masha" not in page


def test_the_incident_page_leads_with_the_facts_and_the_answers(report, moderator):
    question = question_ask(report=report, actor=moderator, text="Сколько бюллетеней?")
    question_answer(question=question, observer=report.observer, answer="Около двадцати")

    page = client_for(moderator).get(f"/admin/reports/incident/{report.incident_id}/change/")
    text = page.content.decode()

    assert text.index("incident-facts") < text.index("incident-panel")
    facts = text.split('class="incident-facts"')[1].split('class="incident-panel"')[0]
    assert "ул. Тестовая, 101" in facts and "Арбат" in facts and "ЦАО" in facts
    assert "Вброс у второй урны" in facts
    assert "Сколько бюллетеней?" in facts and "Около двадцати" in facts


def test_photos_are_shown_from_their_public_copies_and_the_same_photo_once(
    report, moderator, observer, stations, report_form_data, observer_client
):
    data = report_form_data()
    observer_client.post("/report/", data)
    second = Report.objects.get(uuid=data["uuid"])
    reports_aggregate(report_ids=[second.pk])
    for sent in (report, second):
        photo = evidence_make(sent, b"\xff\xd8 the same photo \xff\xd9")
        Evidence.objects.filter(pk=photo.pk).update(public_path=f"evidence/{photo.sha256}.jpg")

    text = (
        client_for(moderator)
        .get(f"/admin/reports/incident/{report.incident_id}/change/")
        .content.decode()
    )
    facts = text.split('class="incident-facts"')[1].split('class="incident-panel"')[0]

    assert facts.count("<img ") == 1
    assert f'src="/media/evidence/{photo.sha256}.jpg"' in facts
    assert "original" not in facts
    assert "the same photo, sent in 2 reports" in facts or "прислана в 2 сообщениях" in facts


def test_the_queue_marks_and_filters_incidents_with_an_answer_waiting(report, moderator):
    question = question_ask(report=report, actor=moderator, text="Когда это было?")
    client = client_for(moderator)
    assert "answer-waiting" not in client.get("/admin/reports/incident/?queue=all").content.decode()

    question_answer(question=question, observer=report.observer, answer="В 10:15")
    listed = client.get("/admin/reports/incident/?queue=all").content.decode()
    waiting = client.get("/admin/reports/incident/?queue=all&answer=waiting")

    assert "answer-waiting" in listed
    assert [i.pk for i in waiting.context["cl"].result_list] == [report.incident_id]


def test_a_report_the_site_raised_says_so_plainly(report):
    from reports.admin.base import reporter_label

    report.reporter_role = ReporterRole.SYSTEM
    assert "anonymous" not in reporter_label(report)
    assert "автоматическая проверка" in reporter_label(report) or "automatic" in reporter_label(
        report
    )


def test_the_queue_names_categories_and_is_titled_with_what_it_lists(report, moderator):
    page = client_for(moderator).get("/admin/reports/incident/?queue=all").content.decode()
    assert "<b>V1</b> Вброс бюллетеней" in page
    assert "<h1>Инциденты</h1>" in page
    assert "Выберите" not in page


@pytest.mark.parametrize(
    ("moment", "due"),
    [
        ("07:40", "/checkin/"),
        ("11:50", "/protocols/turnout/"),
        ("13:30", "/report/"),
        ("20:05", "/protocols/copy/"),
    ],
)
def test_one_navigation_on_every_observer_page_puts_what_is_due_first(
    observer_client, election, moment, due, monkeypatch
):
    import datetime as dt

    hour, minute = map(int, moment.split(":"))
    now = dt.datetime.combine(election.date, dt.time(hour, minute), tzinfo=election.tz)
    monkeypatch.setattr("reports.views.volunteers.timezone.now", lambda: now)

    for page in ("/report/", "/my/", "/protocols/mine/"):
        nav = observer_client.get(page).content.decode().split('<nav class="tabs">')[1]
        links = nav.split("</nav>")[0]
        assert links.split("<a ")[1].startswith(f'href="{due}" class="due"')
        assert all(f'href="{url}"' in links for url in ("/checkin/", "/protocols/copy/", "/my/"))


@pytest.mark.parametrize(
    ("moment", "open_groups"),
    [("07:50", {"Открытие"}), ("13:00", {"Голосование", "Голосование на дому"}),
     ("21:00", {"Подсчёт", "Суммирование в ТИК"})],
)  # fmt: skip
def test_the_form_opens_the_categories_of_the_hour_and_folds_the_rest(
    observer_client, election, moment, open_groups, monkeypatch
):
    import datetime as dt
    import re

    hour, minute = map(int, moment.split(":"))
    now = dt.datetime.combine(election.date, dt.time(hour, minute), tzinfo=election.tz)
    monkeypatch.setattr("reports.forms.reports.timezone.now", lambda: now)

    page = observer_client.get("/report/").content.decode()
    groups = re.findall(r'<details class="phase"( open)?>\s*<summary>([^<]+)</summary>', page)
    assert {label for is_open, label in groups if is_open} == open_groups
    assert len(groups) > len(open_groups)


def test_the_admin_home_groups_the_tables_by_task_and_counts_the_days_work(
    report, moderator, admin_client
):
    question = question_ask(report=report, actor=moderator, text="Когда?")
    question_answer(question=question, observer=report.observer, answer="В 10:15")

    page = admin_client.get("/admin/").content.decode()

    groups = [
        "День выборов: инциденты и сообщения",
        "Наблюдение и мобильные группы",
        "Подсчёты, протоколы и итоги",
        "Места и люди",
        "Партнёры и записи",
    ]
    shown = [group for group in groups if group in page]
    assert len(shown) == 5
    positions = [page.index(g) for g in shown]
    assert positions == sorted(positions)
    assert '<strong data-count="new">1</strong>' in page
    assert '<strong data-count="answers">1</strong>' in page
