"""A coordinator imports the observer roster; each new observer gets a personal sign-in link."""

import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from reports.models import Election, LegalStatus, Observer, SignInLink, Trust
from reports.services.observer_import import ObserverRow, observers_import
from reports.services.places import StationRow, stations_import
from reports.services.signin import token_hash

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "observers_good.csv"
BAD = FIXTURES / "observers_bad.csv"
LINK = re.compile(r"^(\S+)\t([A-Z0-9]{8})\t(https?://\S+/signin/([\w-]+)/)$", re.MULTILINE)


@pytest.fixture
def election():
    election = Election.objects.create(name="Мэр Москвы", date=datetime.date(2013, 9, 8))
    rows = [StationRow("ЦАО", "Арбат", number, False, False) for number in (1, 2, 3, 310)]
    stations_import(election=election, rows=rows)
    return election


def import_observers(*args, language="en") -> str:
    out = io.StringIO()
    with translation.override(language):
        call_command("import_observers", *map(str, args), stdout=out)
    return out.getvalue()


def import_failure_output(*args, language="en") -> str:
    out = io.StringIO()
    with pytest.raises(CommandError), translation.override(language):
        call_command("import_observers", *map(str, args), stdout=out)
    return out.getvalue()


def stations_of(pseudonym: str) -> list[int]:
    observer = Observer.objects.get(pseudonym=pseudonym)
    return sorted(observer.stations.values_list("number", flat=True))


def test_good_roster_creates_observers_with_status_trust_stations_and_contacts(election):
    import_observers(GOOD, "--election", election.pk)
    hawk = Observer.objects.get(pseudonym="Ястреб")
    assert (hawk.legal_status, hawk.trust) == (LegalStatus.CONSULTATIVE, Trust.TRUSTED)
    assert stations_of("Ястреб") == [2, 3]
    rook = Observer.objects.get(pseudonym="Grach")
    assert (rook.legal_status, rook.trust) == (LegalStatus.JOURNALIST, Trust.NEW)
    assert rook.contact.email == "pavel@example.org"
    assert Observer.objects.get(pseudonym="Сокол").contact.phone == "+7 900 111-22-33"


def test_each_new_observer_gets_a_link_printed_with_its_short_code(election):
    output = import_observers(GOOD, "--election", election.pk, "--base-url", "https://hq.example")
    links = LINK.findall(output)
    assert sorted(pseudonym for pseudonym, *_ in links) == ["Grach", "Сокол", "Ястреб"]
    for pseudonym, code, url, token in links:
        link = SignInLink.objects.get(observer__pseudonym=pseudonym)
        assert (link.short_code, link.token_hash) == (code, token_hash(token))
        assert url == f"https://hq.example/signin/{token}/"


def test_links_can_be_written_to_a_private_file(election, tmp_path):
    out = tmp_path / "links.csv"
    output = import_observers(GOOD, "--election", election.pk, "--links-out", out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [row["pseudonym"] for row in rows] == ["Сокол", "Ястреб", "Grach"]
    assert rows[0]["url"].startswith("http://127.0.0.1:8000/signin/")
    assert out.stat().st_mode & 0o777 == 0o600
    assert "/signin/" not in output


def test_bad_rows_are_named_in_english_and_nothing_changes(election):
    output = import_failure_output(BAD, "--election", election.pk)
    assert "Row 2, column “email”: “not-an-email” is not an email address." in output
    assert "Row 3, column “pseudonym”: the cell is empty." in output
    assert "Row 4, column “phone”: “12” is not a phone number." in output
    assert "Row 5, column “legal status”: “president” is not a legal status" in output
    assert "Row 6, column “trust”: “7” is not a trust level" in output
    assert "Row 6, column “stations”: there is no station “9999” in this election." in output
    assert not Observer.objects.exists()
    assert not SignInLink.objects.exists()


def test_bad_rows_are_named_in_russian(election):
    output = import_failure_output(BAD, "--election", election.pk, language="ru")
    assert "Строка 2, столбец «email»: «not-an-email» — не адрес электронной почты." in output
    assert "Строка 6, столбец «stations»: в этих выборах нет участка «9999»." in output


def test_import_good_rows_creates_only_the_correct_observers(election):
    output = import_observers(BAD, "--election", election.pk, "--import-good-rows")
    assert list(Observer.objects.values_list("pseudonym", flat=True)) == ["Кулик"]
    assert [pseudonym for pseudonym, *_ in LINK.findall(output)] == ["Кулик"]


def test_dry_run_writes_nothing_and_issues_no_link(election):
    output = import_observers(GOOD, "--election", election.pk, "--dry-run")
    assert not Observer.objects.exists()
    assert "Observers: new 3, changed 0, unchanged 0." in output
    assert not LINK.findall(output)


def test_repeated_import_keeps_observers_and_their_links(election):
    import_observers(GOOD, "--election", election.pk)
    links = set(SignInLink.objects.values_list("pk", flat=True))
    output = import_observers(GOOD, "--election", election.pk)
    assert Observer.objects.count() == 3
    assert set(SignInLink.objects.values_list("pk", flat=True)) == links
    assert "Observers: new 0, changed 0, unchanged 3." in output
    assert "Observers already known keep their sign-in links (3)" in output
    assert not LINK.findall(output)


def test_repeated_import_updates_status_and_stations(election, tmp_path):
    import_observers(GOOD, "--election", election.pk)
    changed = tmp_path / "changed.csv"
    text = GOOD.read_text(encoding="utf-8").replace('ПСГ,3,"2, 3"', "ПРГ,3,3;310")
    changed.write_text(text, encoding="utf-8")
    output = import_observers(changed, "--election", election.pk)
    assert Observer.objects.get(pseudonym="Ястреб").legal_status == LegalStatus.DECIDING
    assert stations_of("Ястреб") == [3, 310]
    assert "Observers: new 0, changed 1, unchanged 2." in output


def test_reissue_links_revokes_the_old_link_and_prints_a_new_one(election):
    import_observers(GOOD, "--election", election.pk)
    old = SignInLink.objects.get(observer__pseudonym="Сокол")
    output = import_observers(GOOD, "--election", election.pk, "--reissue-links")
    old.refresh_from_db()
    assert not old.is_active
    new = SignInLink.objects.get(observer__pseudonym="Сокол", revoked_at__isnull=True)
    assert (new.short_code, "Сокол") in {(code, p) for p, code, *_ in LINK.findall(output)}


def test_pseudonym_of_another_election_is_a_row_error(election):
    other = Election.objects.create(name="Другие", date=datetime.date(2014, 9, 14))
    observers_import(election=other, rows=[ObserverRow(pseudonym="Сокол")])
    output = import_failure_output(GOOD, "--election", election.pk)
    assert "Row 2, column “pseudonym”: this pseudonym belongs to an observer of another" in output


@pytest.fixture
def coordinator(client):
    user = User.objects.create_user("coordinator", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="add_observer"),
        Permission.objects.get(codename="view_observer"),
    )
    client.force_login(user)
    return user


def upload(client, path: Path, election: Election, **options):
    with path.open("rb") as file:
        return client.post(
            reverse("admin:reports_observer_import"),
            {"election": election.pk, "file": file, **options},
            HTTP_ACCEPT_LANGUAGE="en",
        )


def test_admin_upload_creates_observers_and_shows_their_links_once(client, coordinator, election):
    page = upload(client, GOOD, election)
    assert "Imported all 3 rows." in page.text
    assert Observer.objects.count() == 3
    link = SignInLink.objects.get(observer__pseudonym="Grach")
    assert link.short_code in page.text
    assert "http://testserver/signin/" in page.text


def test_admin_upload_shows_row_errors_and_changes_nothing(client, coordinator, election):
    page = upload(client, BAD, election)
    assert "“president” is not a legal status" in page.text
    assert not Observer.objects.exists()


def test_admin_upload_needs_the_add_observer_permission(client, election):
    client.force_login(User.objects.create_user("moderator", is_staff=True))
    assert client.get(reverse("admin:reports_observer_import")).status_code == 403
