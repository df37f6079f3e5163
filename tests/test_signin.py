"""Observers sign in without passwords: a personal link or its short code; a coordinator's
revocation ends their session at the next request."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reports.models import SignInLink
from reports.services.observers import signin_link_issue, signin_link_revoke
from reports.services.signin import SIGNIN_LINK_SESSION_KEY

pytestmark = pytest.mark.django_db


def test_personal_link_signs_in_and_opens_the_form(client, observer_link):
    response = client.get(f"/signin/{observer_link.token}/", follow=True)

    assert response.redirect_chain == [("/report/", 302)]
    assert "Новое сообщение" in response.content.decode()
    assert client.session[SIGNIN_LINK_SESSION_KEY] == observer_link.link.pk
    observer_link.link.refresh_from_db()
    assert observer_link.link.last_used_at is not None


def test_session_lasts_for_weeks(client, observer_link, settings):
    client.get(f"/signin/{observer_link.token}/")
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE >= 7 * 24 * 3600
    assert not client.session.get_expire_at_browser_close()


def test_same_link_signs_in_a_second_phone_too(observer_link):
    old_phone, new_phone = Client(), Client()
    old_phone.get(f"/signin/{observer_link.token}/")
    new_phone.get(f"/signin/{observer_link.token}/")
    assert old_phone.get("/report/").status_code == 200
    assert new_phone.get("/report/").status_code == 200


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ru", "Эта ссылка недействительна или отозвана"),
        ("en", "This link is not valid or was revoked"),
    ],
)
def test_unknown_link_is_refused(client, observer_link, language, code, message):
    response = language(client, code).get("/signin/not-a-real-token/")
    assert response.status_code == 404
    assert message in response.content.decode()
    assert SIGNIN_LINK_SESSION_KEY not in client.session


def test_short_code_signs_in_however_it_is_typed(client, observer_link):
    code = observer_link.link.short_code
    typed = f" {code[:4].lower()}-{code[4:].lower()} "
    response = client.post("/signin/?next=/my/", {"code": typed})
    assert response.status_code == 302 and response["Location"] == "/my/"
    assert client.get("/my/").status_code == 200


def test_sign_in_does_not_redirect_to_another_site(client, observer_link):
    url = "/signin/?next=https://evil.example/"
    response = client.post(url, {"code": observer_link.link.short_code})
    assert response["Location"] == "/report/"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ru", "Этот код недействителен или отозван"),
        ("en", "This code is not valid or was revoked"),
    ],
)
def test_wrong_short_code_is_explained(client, observer_link, language, code, message):
    response = language(client, code).post("/signin/", {"code": "WRONG123"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("code", "message"), [("ru", "Обязательное поле"), ("en", "This field is required")]
)
def test_empty_short_code_is_explained(client, language, code, message):
    response = language(client, code).post("/signin/", {"code": ""})
    assert message in response.content.decode()


def test_revoked_link_no_longer_signs_in(client, observer_link):
    signin_link_revoke(link=observer_link.link)
    assert client.get(f"/signin/{observer_link.token}/").status_code == 404
    assert client.post("/signin/", {"code": observer_link.link.short_code}).status_code == 200
    assert "_auth_user_id" not in client.session


def test_revocation_ends_an_open_session_at_the_next_request(observer_client, observer_link):
    assert observer_client.get("/my/").status_code == 200
    signin_link_revoke(link=observer_link.link)

    response = observer_client.get("/my/", follow=True)
    assert response.redirect_chain[0][0].startswith("/signin/")
    assert "Ваша ссылка для входа отозвана" in response.content.decode()
    assert observer_client.get("/report/").status_code == 302


def test_revocation_ends_the_sessions_of_that_link_only(client, observer, observer_link):
    """Two phones signed in with the revoked link are out; a third, signed in with the
    observer's new link, stays in."""
    phones = [Client(), Client()]
    for phone in phones:
        assert phone.get(f"/signin/{observer_link.token}/").status_code == 302
    _new_link, token = signin_link_issue(observer=observer)
    assert client.get(f"/signin/{token}/").status_code == 302

    signin_link_revoke(link=observer_link.link)

    for phone in phones:
        assert phone.get("/report/").status_code == 302
        assert "_auth_user_id" not in phone.session
    assert client.get("/report/").status_code == 200


def test_revocation_answers_the_script_with_a_sign_in_request(observer_client, observer_link):
    signin_link_revoke(link=observer_link.link)

    response = observer_client.post("/report/", {}, HTTP_ACCEPT="application/json")
    assert response.status_code == 403 and response.json()["signin"] is True


def test_a_new_link_works_after_the_old_one_was_revoked(client, observer, observer_link):
    signin_link_revoke(link=observer_link.link)
    _link, token = signin_link_issue(observer=observer)
    assert client.get(f"/signin/{token}/").status_code == 302
    assert client.get("/report/").status_code == 200


def test_an_observers_page_asks_nothing_about_links(observer_client):
    """Revocation signs sessions out when it happens; requests do not check their link."""
    with CaptureQueriesContext(connection) as queries:
        observer_client.get("/")
    assert not [q for q in queries if "reports_signin" in q["sql"]]


def test_staff_sessions_cost_no_link_query(moderator_client):
    with CaptureQueriesContext(connection) as queries:
        moderator_client.get("/")
    assert not [q for q in queries if "reports_signinlink" in q["sql"]]


def test_failed_attempts_from_one_address_are_limited(
    client, observer_link, settings, remote_addr, language
):
    settings.SIGNIN_RATE = "3/m"
    for _ in range(4):
        client.post("/signin/", {"code": "WRONG123"}, REMOTE_ADDR=remote_addr)
    response = language(client, "en").post(
        "/signin/", {"code": observer_link.link.short_code}, REMOTE_ADDR=remote_addr
    )
    assert response.status_code == 429
    assert "Too many wrong codes" in response.content.decode()
    other_address = client.post(
        "/signin/", {"code": observer_link.link.short_code}, REMOTE_ADDR="192.0.2.77"
    )
    assert other_address.status_code == 302


def test_the_limit_lets_exactly_its_number_of_wrong_codes_be_tried(
    client, observer_link, settings, remote_addr
):
    settings.SIGNIN_RATE = "3/m"
    tried = [
        client.post("/signin/", {"code": "WRONG123"}, REMOTE_ADDR=remote_addr).status_code
        for _ in range(3)
    ]
    fourth = client.post(
        "/signin/", {"code": observer_link.link.short_code}, REMOTE_ADDR=remote_addr
    )

    assert tried == [200, 200, 200]
    assert fourth.status_code == 429


def test_a_valid_link_signs_in_whatever_others_at_the_address_tried(
    observer_link, settings, remote_addr
):
    """Observers behind one carrier's NAT share an address with whoever sends bad links
    and codes from it: their personal links still work."""
    settings.SIGNIN_RATE = "3/m"
    attacker = Client(REMOTE_ADDR=remote_addr)
    for attempt in range(10):
        attacker.get(f"/signin/not-a-real-token-{attempt}/")
        attacker.post("/signin/", {"code": f"WRONG{attempt:03d}"})
    assert attacker.get("/signin/not-a-real-token/").status_code == 429

    neighbour = Client(REMOTE_ADDR=remote_addr)
    response = neighbour.get(f"/signin/{observer_link.token}/")

    assert response.status_code == 302 and response["Location"] == "/report/"
    assert neighbour.get("/report/").status_code == 200


def test_bad_links_do_not_use_up_the_codes_limit(observer_link, settings, remote_addr):
    settings.SIGNIN_RATE = "3/m"
    for attempt in range(10):
        Client().get(f"/signin/not-a-real-token-{attempt}/", REMOTE_ADDR=remote_addr)

    response = Client().post(
        "/signin/", {"code": observer_link.link.short_code}, REMOTE_ADDR=remote_addr
    )

    assert response.status_code == 302


def test_successful_sign_ins_do_not_use_up_the_limit(observer_link, settings, remote_addr):
    settings.SIGNIN_RATE = "2/m"
    for _ in range(5):
        response = Client().get(f"/signin/{observer_link.token}/", REMOTE_ADDR=remote_addr)
        assert response.status_code == 302


def test_sign_out_ends_the_session_but_not_the_link(observer_client, observer_link):
    observer_client.post("/signout/")
    assert observer_client.get("/my/").status_code == 302
    assert SignInLink.objects.get(pk=observer_link.link.pk).revoked_at is None


def test_a_moderator_without_an_observer_profile_is_sent_to_sign_in(moderator_client):
    assert moderator_client.get("/report/").status_code == 302
