"""A coordinator imports the official station list, from the command line or the admin."""

import datetime
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from reports.models import AuditEntry, Election, Okrug, Station, Tik

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "stations_good.csv"
BAD = FIXTURES / "stations_bad.csv"
REAL = (
    Path(settings.BASE_DIR).parent
    / "shared"
    / "data"
    / "moscow_2013_mayoral_uik_list_rosvybory.csv"
)


@pytest.fixture
def election():
    return Election.objects.create(name="Мэр Москвы", date=datetime.date(2013, 9, 8))


def import_stations(*args, language="en") -> str:
    out = io.StringIO()
    with translation.override(language):
        call_command("import_stations", *map(str, args), stdout=out)
    return out.getvalue()


def import_failure(*args, language="en") -> str:
    with pytest.raises(CommandError) as failure, translation.override(language):
        call_command("import_stations", *map(str, args), stdout=io.StringIO())
    return str(failure.value)


def import_failure_output(*args, language="en") -> str:
    out = io.StringIO()
    with pytest.raises(CommandError), translation.override(language):
        call_command("import_stations", *map(str, args), stdout=out)
    return out.getvalue()


def counts() -> tuple[int, int, int, int, int]:
    return (
        Okrug.objects.count(),
        Tik.objects.count(),
        Station.objects.count(),
        Station.objects.filter(has_scanner=True).count(),
        Station.objects.filter(is_temporary=True).count(),
    )


def test_good_list_creates_okrugs_tiks_and_stations_with_flags(election):
    output = import_stations(GOOD, "--election", election.pk)
    assert counts() == (2, 3, 8, 4, 2)
    station = Station.objects.get(number=3650)
    assert (station.okrug.name, station.tik.name, station.election) == ("САО", "Аэропорт", election)
    assert station.is_temporary and station.has_scanner
    assert "Imported all 8 rows." in output


def test_importing_the_same_list_again_creates_nothing(election):
    import_stations(GOOD, "--election", election.pk)
    ids = set(Station.objects.values_list("pk", flat=True))
    output = import_stations(GOOD, "--election", election.pk)
    assert set(Station.objects.values_list("pk", flat=True)) == ids
    assert counts() == (2, 3, 8, 4, 2)
    assert "Stations: new 0, changed 0, unchanged 8." in output


def test_reimport_updates_changed_flags(election, tmp_path):
    import_stations(GOOD, "--election", election.pk)
    changed = tmp_path / "changed.csv"
    changed.write_text(
        GOOD.read_text(encoding="utf-8").replace("311,,", "311,,КОИБ"), encoding="utf-8"
    )
    output = import_stations(changed, "--election", election.pk)
    assert Station.objects.get(number=311).has_scanner
    assert counts() == (2, 3, 8, 5, 2)
    assert "Stations: new 0, changed 1, unchanged 7." in output


def test_create_election_makes_the_election_once(tmp_path):
    args = [GOOD, "--create-election", "Мэр Москвы", "--date", "2013-09-08"]
    import_stations(*args)
    import_stations(*args)
    election = Election.objects.get()
    assert (election.name, election.date) == ("Мэр Москвы", datetime.date(2013, 9, 8))
    assert election.stations.count() == 8


def test_bad_rows_are_named_in_english_and_nothing_changes(election):
    output = import_failure_output(BAD, "--election", election.pk)
    assert "Row 3, column “№ участка”: “1O” is not a station number" in output
    assert "Row 4, column “Округ”: the cell is empty." in output
    assert "Row 5: the row has 3 cells, the header has 5." in output
    assert "Row 2, column “№ участка”: “1” appears more than once, in rows 2, 6." in output
    assert "Row 6, column “№ участка”: “1” appears more than once, in rows 2, 6." in output
    assert counts() == (0, 0, 0, 0, 0)


def test_bad_rows_are_named_in_russian(election):
    output = import_failure_output(BAD, "--election", election.pk, language="ru")
    assert "Строка 3, столбец «№ участка»: «1O» — не номер участка" in output
    assert "Строка 4, столбец «Округ»: ячейка пуста." in output
    message = import_failure(BAD, "--election", election.pk, language="ru")
    assert message.startswith("Ничего не импортировано: строк с ошибками — 5 из 6.")


def test_bad_file_verdict_says_nothing_was_imported(election):
    message = import_failure(BAD, "--election", election.pk)
    assert message.startswith("Nothing was imported: 5 of 6 rows have errors.")
    assert not AuditEntry.objects.filter(action="stations_import").exists()


def test_import_good_rows_imports_the_rows_without_errors(election):
    output = import_stations(BAD, "--election", election.pk, "--import-good-rows")
    assert list(Station.objects.values_list("number", flat=True)) == [311]
    assert "Row 3, column “№ участка”" in output
    assert "Imported the good rows; 5 of 6 rows had errors and were skipped." in output


def test_dry_run_writes_nothing_and_says_what_would_happen(election):
    output = import_stations(GOOD, "--election", election.pk, "--dry-run")
    assert counts() == (0, 0, 0, 0, 0)
    assert "Stations: new 8, changed 0, unchanged 0." in output
    assert "Dry run: nothing was written." in output


def test_dry_run_does_not_create_the_election():
    import_stations(GOOD, "--create-election", "X", "--date", "2013-09-08", "--dry-run")
    assert not Election.objects.exists()


def test_missing_columns_are_named(election, tmp_path):
    path = tmp_path / "no_koib.csv"
    path.write_text(
        "Округ,Территория (ТИК),№ участка,участки в местах временного\nЦАО,Арбат,1,\n",
        encoding="utf-8",
    )
    message = import_failure(path, "--election", election.pk)
    assert "Missing columns: “участки в местах временного пребывания избирателей”" in message
    assert "“участки с КОИБ”" in message
    assert not Station.objects.exists()


def test_unknown_columns_are_reported_and_ignored(election, tmp_path):
    path = tmp_path / "extra.csv"
    lines = GOOD.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join([lines[0] + ",Примечание", *(line + "," for line in lines[1:])]),
        encoding="utf-8",
    )
    output = import_stations(path, "--election", election.pk)
    assert "Column “Примечание” is not known and was ignored." in output
    assert Station.objects.count() == 8


def test_windows_1251_with_semicolons_is_read(election, tmp_path):
    path = tmp_path / "cp1251.csv"
    path.write_bytes(GOOD.read_text(encoding="utf-8").replace(",", ";").encode("cp1251"))
    import_stations(path, "--election", election.pk)
    assert counts() == (2, 3, 8, 4, 2)


def test_binary_file_is_refused(election, tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)))
    message = import_failure(path, "--election", election.pk)
    assert "not a CSV text file" in message


def test_real_moscow_2013_list_gives_the_official_counts():
    if not REAL.exists():
        pytest.skip(f"{REAL} absent: the real station list lives in /work/shared/data")
    import_stations(REAL, "--create-election", "Мэр Москвы 2013", "--date", "2013-09-08")
    assert counts() == (12, 127, 3611, 1097, 200)
    temporary = Station.objects.filter(is_temporary=True)
    assert {min(s.number for s in temporary), max(s.number for s in temporary)} == {3601, 4008}


def test_corrupted_copy_of_the_real_list_is_rejected_row_by_row(tmp_path):
    if not REAL.exists():
        pytest.skip(f"{REAL} absent: the real station list lives in /work/shared/data")
    lines = REAL.read_text(encoding="utf-8").splitlines()
    lines[100] = lines[100].replace(lines[100].split(",")[2], "сто")  # row 101
    lines[2000] = "," + lines[2000].split(",", 1)[1]  # row 2001: no okrug
    lines[3000] = lines[5]  # row 3001 repeats row 6
    corrupted = tmp_path / "corrupted.csv"
    corrupted.write_text("\n".join(lines), encoding="utf-8")
    args = [corrupted, "--create-election", "Мэр Москвы 2013", "--date", "2013-09-08"]
    output = import_failure_output(*args)
    assert "Row 101, column “№ участка”: “сто” is not a station number" in output
    assert "Row 2001, column “Округ”: the cell is empty." in output
    assert "Row 3001, column “№ участка”" in output
    assert "in rows 6, 3001" in output
    assert counts() == (0, 0, 0, 0, 0)
    assert not Election.objects.exists()


@pytest.fixture
def coordinator(client):
    user = User.objects.create_user("coordinator", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="add_station"),
        Permission.objects.get(codename="view_station"),
    )
    client.force_login(user)
    return user


def upload(client, path: Path, election: Election, **options):
    with path.open("rb") as file:
        return client.post(
            reverse("admin:reports_station_import"),
            {"election": election.pk, "file": file, **options},
            HTTP_ACCEPT_LANGUAGE="en",
        )


def test_admin_upload_page_is_offered_to_coordinators(client, coordinator, election):
    page = client.get(reverse("admin:reports_station_import"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Import the good rows anyway" in page.text
    assert "Preview only" in page.text


def test_admin_upload_imports_the_list(client, coordinator, election):
    page = upload(client, GOOD, election)
    assert "Imported all 8 rows." in page.text
    assert counts() == (2, 3, 8, 4, 2)
    entry = AuditEntry.objects.get(action="stations_import")
    assert (entry.actor, entry.note) == (coordinator, "stations_good.csv")


def test_admin_upload_shows_row_errors_and_changes_nothing(client, coordinator, election):
    page = upload(client, BAD, election)
    assert "Nothing was imported: 5 of 6 rows have errors." in page.text
    assert "“1O” is not a station number" in page.text
    assert counts() == (0, 0, 0, 0, 0)


def test_admin_upload_can_import_the_good_rows(client, coordinator, election):
    upload(client, BAD, election, import_good_rows="on")
    assert list(Station.objects.values_list("number", flat=True)) == [311]


def test_admin_preview_writes_nothing(client, coordinator, election):
    page = upload(client, GOOD, election, dry_run="on")
    assert "Stations: new 8, changed 0, unchanged 0." in page.text
    assert counts() == (0, 0, 0, 0, 0)


def test_admin_upload_refuses_a_file_that_is_not_csv_text(client, coordinator, election, tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)))
    page = upload(client, path, election)
    assert "This is not a CSV text file" in page.text
    assert not Station.objects.exists()


def test_admin_upload_needs_the_add_station_permission(client, election):
    client.force_login(User.objects.create_user("moderator", is_staff=True))
    assert client.get(reverse("admin:reports_station_import")).status_code == 403


def test_station_list_in_the_admin_links_to_the_upload_page(client, coordinator, election):
    page = client.get(reverse("admin:reports_station_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert f'href="{reverse("admin:reports_station_import")}"' in page.text
