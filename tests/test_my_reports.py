""" "My reports": an observer sees what they sent, its status and moderators' questions, and
can answer; no page ever shows another observer's reports or anyone's contacts."""

import pytest

from reports.models import AuditEntry, Question, Report, ReviewStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_report(observer_client, report_form_data) -> Report:
    data = report_form_data(description="Вброс у второй урны")
    observer_client.post("/report/", data)
    return Report.objects.get(uuid=data["uuid"])


@pytest.fixture
def others_report(other_observer_client, report_form_data) -> Report:
    data = report_form_data(station_number="201", description="Чужой секретный текст")
    other_observer_client.post("/report/", data)
    return Report.objects.get(uuid=data["uuid"])


@pytest.fixture
def question(own_report, moderator) -> Question:
    return Question.objects.create(
        report=own_report, asked_by=moderator, text="Сколько было бюллетеней в пачке?"
    )


def test_list_shows_own_reports_with_their_status(observer_client, own_report, others_report):
    Report.objects.filter(pk=own_report.pk).update(status=ReviewStatus.VERIFIED)
    page = observer_client.get("/my/").content.decode()
    assert f"/my/{own_report.uuid}/" in page
    assert "Вброс бюллетеней" in page and "Подтверждено" in page
    assert f"/my/{others_report.uuid}/" not in page


def test_status_is_shown_in_english_too(observer_client, own_report, language):
    Report.objects.filter(pk=own_report.pk).update(status=ReviewStatus.REJECTED)
    page = language(observer_client, "en").get("/my/").content.decode()
    assert "Rejected" in page and "Ballot stuffing" in page


def test_detail_shows_what_was_sent(observer_client, own_report):
    page = observer_client.get(f"/my/{own_report.uuid}/").content.decode()
    assert "Вброс у второй урны" in page and "УИК 101" in page and "Новое" in page


def test_another_observers_report_is_not_found(observer_client, others_report):
    assert observer_client.get(f"/my/{others_report.uuid}/").status_code == 404


def test_question_is_shown_and_can_be_answered(observer_client, question):
    page = observer_client.get("/my/").content.decode()
    assert "Сколько было бюллетеней в пачке?" in page

    response = observer_client.post(
        f"/my/questions/{question.pk}/answer/",
        {f"q{question.pk}-answer": " Около 30 "},
        follow=True,
    )
    question.refresh_from_db()
    assert (question.answer, question.answered_at is not None) == ("Около 30", True)
    assert "Ваш ответ отправлен в штаб" in response.content.decode()
    assert AuditEntry.objects.filter(action="question_answer", object_id=str(question.pk)).exists()


def test_an_answered_question_shows_the_answer_and_no_form(observer_client, question):
    url = f"/my/questions/{question.pk}/answer/"
    observer_client.post(url, {f"q{question.pk}-answer": "Около 30"})
    page = observer_client.get(f"/my/{question.report.uuid}/").content.decode()
    assert "Около 30" in page and url not in page
    observer_client.post(url, {f"q{question.pk}-answer": "Передумал"})
    question.refresh_from_db()
    assert question.answer == "Около 30"


@pytest.mark.parametrize(
    ("code", "message"), [("ru", "Обязательное поле"), ("en", "This field is required")]
)
def test_an_empty_answer_is_explained(observer_client, question, language, code, message):
    response = language(observer_client, code).post(
        f"/my/questions/{question.pk}/answer/", {f"q{question.pk}-answer": ""}
    )
    assert response.status_code == 400 and message in response.content.decode()
    question.refresh_from_db()
    assert question.answered_at is None


def test_nobody_else_can_answer_or_see_a_question(other_observer_client, question):
    url = f"/my/questions/{question.pk}/answer/"
    assert other_observer_client.post(url, {f"q{question.pk}-answer": "x"}).status_code == 404
    assert "Сколько было бюллетеней" not in other_observer_client.get("/my/").content.decode()
    question.refresh_from_db()
    assert question.answered_at is None


def test_no_page_reveals_another_observers_data_or_any_contacts(
    observer_client, own_report, others_report, other_observer, observer
):
    pages = ["/", "/report/", "/my/", f"/my/{own_report.uuid}/", "/citizen/", "/signin/"]
    secrets = [
        "Чужой секретный текст",
        str(others_report.uuid),
        other_observer.pseudonym,
        other_observer.contact.full_name,
        other_observer.contact.phone,
        observer.contact.full_name,
        observer.contact.phone,
    ]
    for path in pages:
        page = observer_client.get(path).content.decode()
        for secret in secrets:
            assert secret not in page, (path, secret)
