"""`import_results`: clean rows are stored, dirty rows reported by row and column, files
zipped or not, the 2016 `oik` column, the Golos xlsx fixture, re-imports, and the national
totals of 2012 and 2018 equal the CEC's official figures."""

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.utils import translation

from reports.domain.protocol_checks import template_load
from reports.models import Election, OfficialResult, ResultsImport, ResultTotal

from .coverage_helpers import tasks_in_process  # noqa: F401 (a fixture)

DATA = Path(settings.BASE_DIR).parent / "shared" / "data"

# The 2018 file's headers, as the CEC writes them.
LINES_12 = [
    "Число избирателей, включенных в список избирателей",
    "Число избирательных бюллетеней, полученных участковой избирательной комиссией",
    "Число избирательных бюллетеней, выданных избирателям, проголосовавшим досрочно",
    "Число избирательных бюллетеней, выданных в помещении для голосования в день голосования",
    "Число избирательных бюллетеней, выданных вне помещения для голосования в день голосования",
    "Число погашенных избирательных бюллетеней",
    "Число избирательных бюллетеней в переносных ящиках для голосования",
    "Число бюллетеней в стационарных ящиках для голосования",
    "Число недействительных избирательных бюллетеней",
    "Число действительных избирательных бюллетеней",
    "Число утраченных избирательных бюллетеней",
    "Число избирательных бюллетеней, не учтенных при получении",
]
HEADER = ["region", "tik", "uik", *LINES_12, "Иванов", "Петров", "url"]
CLEAN = ["Город N", "1 Центральная", "11", 1000, 600, 0, 480, 20, 100, 20, 480, 10, 490, 0, 0]
CLEAN += [300, 190, "http://example.org/11"]


def csv_text(*rows: list) -> str:
    lines = [",".join(f'"{name}"' for name in HEADER)]
    lines += [",".join(str(cell) for cell in row) for row in rows]
    return "\n".join(lines) + "\n"


def row(uik: int, **changes) -> list:
    values = list(CLEAN)
    values[2] = str(uik)
    for index, value in changes.items():
        values[int(index.lstrip("c"))] = value
    return values


# What the import enqueues after commit (reconciliation, totals) runs here, even with
# REDIS_URL set.
pytestmark = pytest.mark.usefixtures("tasks_in_process")


def run(*args, **options) -> str:
    """Run the command, in English, with what it enqueues after commit."""
    out = io.StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True), translation.override("en"):
        call_command("import_results", *map(str, args), stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def small_csv(tmp_path) -> Path:
    path = tmp_path / "results.csv"
    path.write_text(
        csv_text(
            row(11),
            row(12, c3="x"),  # a letter in line 1
            row(13, c9=""),  # line 7 blank
            row(14, c0=""),  # no region
            row(11),  # station 11 again
            row(15, c12=491),  # line 10 breaks two relations: kept and flagged
        ),
        encoding="utf-8",
    )
    return path


def import_small(path: Path, **options) -> str:
    return run(path, name="Выборы N", date="2018-03-18", **options)


def test_a_file_with_a_bad_row_is_refused_whole(db, small_csv):
    with pytest.raises(CommandError, match="Nothing was imported: 4 rows have errors"):
        import_small(small_csv)
    assert not OfficialResult.objects.exists()
    assert ResultsImport.objects.get().outcome == "refused"


def test_clean_rows_are_stored_and_dirty_rows_refused_on_request(db, small_csv):
    import_small(small_csv, import_good_rows=True)
    assert sorted(OfficialResult.objects.values_list("uik", flat=True)) == [11, 15]


def test_each_dirty_row_is_reported_by_row_and_column(db, small_csv):
    output = import_small(small_csv, import_good_rows=True)
    assert f"row 3, column “{LINES_12[0]}”: not a whole number in the digits 0–9: “x”" in output
    assert f"row 4, column “{LINES_12[6]}”: the cell is empty" in output
    assert "row 5, column “region”: the region is empty" in output
    assert "row 6, column “uik”: station 11 repeats row 2; the first row was kept" in output
    assert "rows read 6, imported 2, refused 4" in output


def test_the_run_and_its_problems_are_kept_for_moderators(db, small_csv):
    import_small(small_csv, import_good_rows=True)
    run_ = ResultsImport.objects.get()
    assert (run_.rows_read, run_.rows_imported, run_.issue_count) == (6, 2, 4)
    assert (run_.outcome, run_.control_failed) == ("partial", 1)
    problem = "not a whole number in the digits 0–9: “x”"
    assert {"row": 3, "column": LINES_12[0], "message": problem, "refused": True} in run_.issues


def test_an_official_row_breaking_a_relation_is_kept_and_flagged(db, small_csv):
    import_small(small_csv, import_good_rows=True)
    flagged = OfficialResult.objects.get(uik=15)
    assert flagged.control_failures == ["boxes_counted", "valid_is_votes"]


def test_the_summary_counts_and_links_the_rows_failing_control_relations(db, tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(csv_text(row(11), row(15, c12=491)), encoding="utf-8")
    output = import_small(path)
    election = Election.objects.get()
    link = f"/admin/reports/officialresult/?election__id__exact={election.pk}&control=failed"
    assert f"Rows kept that fail control relations: 1; see {link}" in output


def test_a_new_election_takes_its_form_and_candidates_from_the_header(db, tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(csv_text(row(11)), encoding="utf-8")
    import_small(path)
    election = Election.objects.get(name="Выборы N")
    assert election.protocol_template["key"] == "federal-12"
    assert [c["name"] for c in election.protocol_template["candidates"]] == ["Иванов", "Петров"]


def test_a_zipped_file_is_read_like_a_plain_one(db, tmp_path):
    path = tmp_path / "results.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("results.csv", csv_text(row(11), row(12)))
    import_small(path)
    assert OfficialResult.objects.count() == 2


def test_importing_again_updates_instead_of_duplicating(db, tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(csv_text(row(11)), encoding="utf-8")
    import_small(path)
    election = Election.objects.get()
    path.write_text(csv_text(row(11, c15=301, c16=189)), encoding="utf-8")
    run(path, election=election.pk)
    assert OfficialResult.objects.get().lines["c1"] == 301


def test_import_totals_are_aggregated(db, small_csv):
    import_small(small_csv, import_good_rows=True)
    total = ResultTotal.objects.get(source="official", level="election")
    assert total.stations == 2
    assert total.lines["c1"] == 600


def test_a_file_with_another_form_is_refused_naming_the_columns(db, tmp_path):
    election = Election.objects.create(
        name="E", date=dt.date(2018, 3, 18), protocol_template=template_load("federal-18", ["a"])
    )
    path = tmp_path / "results.csv"
    path.write_text(csv_text(row(11)), encoding="utf-8")
    with pytest.raises(
        CommandError, match=r"missing columns: .*“11 Absentee certificates received”"
    ):
        run(path, election=election.pk)


def test_a_region_option_keeps_only_that_region(db, tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(csv_text(row(11), row(12, c0="Другой край")), encoding="utf-8")
    run(path, name="E", date="2018-03-18", region="город n")
    assert list(OfficialResult.objects.values_list("uik", flat=True)) == [11]


def test_stations_of_the_election_are_matched_by_number(db, stations, tmp_path):
    election = stations[101].election
    election.protocol_template = template_load("federal-12", ["Иванов", "Петров"])
    election.save()
    path = tmp_path / "results.csv"
    path.write_text(csv_text(row(101), row(999)), encoding="utf-8")
    run(path, election=election.pk)
    assert OfficialResult.objects.get(uik=101).station == stations[101]
    assert OfficialResult.objects.get(uik=999).station is None


def require(name: str) -> Path:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"real data: {path} absent (shared/data is not part of the repository)")
    return path


GOLOS_2018 = ["Бабурин", "Грудинин", "Жириновский", "Путин", "Собчак", "Сурайкин", "Титов",
              "Явлинский"]  # fmt: skip


@pytest.fixture
def golos_output(db) -> str:
    path = require("golos_statelectgenerator_import_fixture_2018.xlsx")
    election = Election.objects.create(
        name="2018", date=dt.date(2018, 3, 18),
        protocol_template=template_load("federal-12", GOLOS_2018),
    )  # fmt: skip
    return run(path, election=election.pk, import_good_rows=True)


def test_golos_fixture_keeps_its_clean_rows(golos_output):
    assert "rows read 34, imported 23, refused 10" in golos_output
    assert OfficialResult.objects.filter(uik=1410, tik="Куркинская").exists()


def test_golos_fixture_reports_each_corruption_by_row_and_column(golos_output):
    assert "row 14, column “1”: the cell is empty" in golos_output
    assert "row 20, column “kom2”: the territorial commission is empty" in golos_output
    assert "row 20, column “2”: the cell is empty" in golos_output
    assert "row 24, column “20”: not a whole number in the digits 0–9: “p”" in golos_output
    assert "row 25, column “—”: empty row; skipped" in golos_output
    assert "row 29, column “1”: not a whole number in the digits 0–9: “x”" in golos_output
    assert "row 31, column “uik”: not a station number: “”" in golos_output
    assert "row 34, column “kom1”: the region is empty" in golos_output
    assert "row 12, column “22”: unexpected value “階層” in a spare column; ignored" in golos_output
    assert "row 6, column “link”: not a link; ignored" in golos_output


def test_golos_clean_rows_agree_with_the_2018_file(golos_output):
    assert OfficialResult.objects.get(uik=1410).lines["c4"] == 296
    assert not OfficialResult.objects.exclude(control_failures=[]).exists()


def national_totals(name: str, date: str) -> dict:
    run(require(name), name=name, date=date)
    return ResultTotal.objects.get(source="official", level="election").lines


def test_national_2012_totals_equal_the_official_result(db):
    lines = national_totals("russia_federal_2012_uik.csv.zip", "2012-03-04")
    # CEC, 4 March 2012: Zhirinovsky, Zyuganov, Mironov, Prokhorov, Putin; voters; ballots.
    assert [lines[f"c{i}"] for i in range(1, 6)] == [
        4_458_103, 12_318_353, 2_763_935, 5_722_508, 45_602_075
    ]  # fmt: skip
    assert lines["voters"] == 109_860_331
    assert lines["invalid"] + lines["valid"] == 71_701_665


def test_national_2018_totals_equal_the_official_result(db):
    lines = national_totals("russia_federal_2018_uik.csv.zip", "2018-03-18")
    # CEC, 18 March 2018, candidates in the file's (alphabetical) order.
    assert [lines[f"c{i}"] for i in range(1, 9)] == [
        479_013, 8_659_206, 4_154_985, 56_430_712, 1_238_031, 499_342, 556_801, 769_644
    ]  # fmt: skip
    assert lines["invalid"] + lines["valid"] == 73_578_992
