"""`import_results`: a file is imported whole or not at all, its columns found by name, every
value checked, dirty rows reported by row and column, files zipped or not, in UTF-8 or
Windows-1251, with commas, semicolons or tabs, the Golos xlsx fixture, re-imports of any
spelling of the same file, and the national totals of 2012 and 2018 equal the CEC's figures."""

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError
from django.test import TestCase
from django.utils import translation

from reports.domain.protocol_checks import template_load
from reports.models import Election, OfficialResult, ResultsImport, ResultTotal, StatisticsRun
from reports.services import protocols

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


def csv_text(*rows: list, header: list[str] = HEADER, sep: str = ",") -> str:
    lines = [sep.join(f'"{name}"' for name in header)]
    lines += [sep.join(str(cell) for cell in row) for row in rows]
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


# Files that must not fool the import (issue 15).


def imported_election(tmp_path, *rows) -> Election:
    path = tmp_path / "first.csv"
    path.write_text(csv_text(*rows), encoding="utf-8")
    import_small(path)
    return Election.objects.get()


def swapped(values: list, first: int, second: int) -> list:
    values = list(values)
    values[first], values[second] = values[second], values[first]
    return values


def test_swapped_candidate_columns_keep_each_candidates_votes(db, tmp_path):
    election = imported_election(tmp_path, row(11))
    path = tmp_path / "again.csv"
    path.write_text(csv_text(swapped(row(11), 15, 16), header=swapped(HEADER, 15, 16)))
    run(path, election=election.pk)
    lines = ResultTotal.objects.get(source="official", level="election").lines
    assert (lines["c1"], lines["c2"]) == (300, 190)


def test_swapped_line_columns_keep_each_lines_value(db, tmp_path):
    election = imported_election(tmp_path, row(11))
    path = tmp_path / "again.csv"
    path.write_text(csv_text(swapped(row(11), 3, 4), header=swapped(HEADER, 3, 4)))
    run(path, election=election.pk)
    assert OfficialResult.objects.get().lines["voters"] == 1000


def test_a_region_spelled_differently_is_the_same_station(db, tmp_path):
    election = imported_election(tmp_path, row(11), row(12))
    path = tmp_path / "again.csv"
    path.write_text(csv_text(row(11, c0="ГОРОД  n", c1="1 центральная"), row(12, c0="город N")))
    run(path, election=election.pk)
    assert OfficialResult.objects.count() == 2
    totals = ResultTotal.objects.filter(source="official")
    assert totals.get(level="election").stations == 2
    assert list(totals.filter(level="tik").values_list("name", "stations")) == [
        ("Город N, 1 Центральная", 2)
    ]


def test_the_database_keeps_one_row_per_station_of_a_region(db, election):
    fields = {"election": election, "region_key": "город n", "uik": 11, "lines": {}}
    OfficialResult.objects.create(region="Город N", **fields)
    with pytest.raises(IntegrityError):
        OfficialResult.objects.create(region="город  N", **fields)


def many_rows(count: int, bad: dict | None = None) -> list[list]:
    """`count` clean stations; `bad` maps a station's position to the cells it changes."""
    rows = [row(uik) for uik in range(1, count + 1)]
    for position, changes in (bad or {}).items():
        rows[position] = row(position + 1, **changes)
    return rows


def test_bad_bytes_past_the_first_batch_leave_nothing_written(db, tmp_path):
    election = imported_election(tmp_path, row(1))
    text = csv_text(*many_rows(2500)).encode()
    lines = text.split(b"\n")
    lines[2400] = lines[2400].replace("Город".encode(), "Город".encode("cp1251"))
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(CommandError, match="Row 2401 is not UTF-8 text"):
        run(path, election=election.pk, import_good_rows=True)
    assert OfficialResult.objects.count() == 1
    log = ResultsImport.objects.latest("started_at")
    assert (log.outcome, log.rows_imported) == ("refused", 0)
    assert "Row 2401" in log.error and log.finished_at is not None


def test_an_odd_digit_past_the_first_batch_refuses_the_whole_file(db, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(csv_text(*many_rows(2500, {2299: {"c3": "1²00"}})), encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing was imported: 1 row has errors"):
        import_small(path)
    assert not OfficialResult.objects.exists()
    log = ResultsImport.objects.get()
    assert (log.outcome, log.rows_read, log.rows_imported) == ("refused", 2500, 0)
    assert log.issues[0]["row"] == 2301


def test_a_crash_with_good_rows_kept_still_leaves_nothing_half_written(db, tmp_path, monkeypatch):
    store = protocols.official_results_store
    calls = []

    def store_then_crash(batch):
        calls.append(len(batch))
        if len(calls) > 1:
            raise DatabaseError("the connection was lost")
        return store(batch)

    monkeypatch.setattr(protocols, "official_results_store", store_then_crash)
    path = tmp_path / "big.csv"
    path.write_text(csv_text(*many_rows(2500)), encoding="utf-8")
    with pytest.raises(DatabaseError):
        import_small(path, import_good_rows=True)
    assert calls == [2000, 500]
    assert not OfficialResult.objects.exists()
    assert ResultsImport.objects.get().outcome == "failed"


@pytest.mark.parametrize("digits", ["٣٠٠", "3²0", "３００"])
def test_digits_of_other_scripts_are_refused_by_row_and_column(db, tmp_path, digits):
    path = tmp_path / "digits.csv"
    path.write_text(csv_text(row(11), row(12, c15=digits)), encoding="utf-8")
    output = import_small(path, import_good_rows=True)
    problem = f"row 3, column “Иванов”: not a whole number in the digits 0–9: “{digits}”"
    assert problem in output
    assert list(OfficialResult.objects.values_list("uik", flat=True)) == [11]


def test_a_huge_count_is_refused_and_the_statistics_still_run(db, tmp_path):
    path = tmp_path / "huge.csv"
    huge = "12345678901234567890123"
    path.write_text(csv_text(row(11), row(12, c15=huge)), encoding="utf-8")
    output = import_small(path, import_good_rows=True, statistics=True)
    assert f"row 3, column “Иванов”: {huge} is more than this line can hold (at most 600)" in output
    assert ResultTotal.objects.get(source="official", level="election").lines["c1"] == 300
    assert StatisticsRun.objects.get().status == StatisticsRun.Status.DONE


def test_a_line_above_the_ballots_received_is_refused(db, tmp_path):
    path = tmp_path / "above.csv"
    path.write_text(csv_text(row(11, c12=700)), encoding="utf-8")
    output = import_small(path, import_good_rows=True)
    assert "700 is more than this line can hold (at most 600)" in output


def test_a_station_with_more_voters_than_the_form_allows_is_refused(db, tmp_path):
    path = tmp_path / "voters.csv"
    path.write_text(csv_text(row(11, c3=25_001)), encoding="utf-8")
    output = import_small(path, import_good_rows=True)
    assert f"row 2, column “{LINES_12[0]}”: 25001 is more than this line can hold" in output


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("blank.csv", b"\n\n", "the file is empty"),
        ("broken.csv.zip", b"PK\x03\x04 not really a zip", "the zip archive is damaged"),
        ("broken.xlsx", b"PK\x03\x04 not really a workbook", "the xlsx file is damaged"),
        ("binary.csv", b"\x00\x01\x02region", "This is not a CSV text file"),
    ],
)
def test_an_unreadable_file_gets_one_clear_line(db, tmp_path, name, content, message):
    election = imported_election(tmp_path, row(11))
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message) as raised:
        run(path, election=election.pk)
    assert "\n" not in str(raised.value)
    log = ResultsImport.objects.latest("started_at")
    assert (log.outcome, log.error[:20]) == ("refused", message[:20])


def test_a_truncated_zip_is_refused(db, tmp_path):
    path = tmp_path / "results.csv.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("results.csv", csv_text(*many_rows(300)))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(CommandError, match="the zip archive is damaged"):
        import_small(path)


def test_a_missing_file_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        import_small(tmp_path / "nowhere.csv")


def test_a_truncated_csv_refuses_its_last_row(db, tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text(csv_text(row(11), row(12))[:-60], encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing was imported: 1 row has"):
        import_small(path)
    assert not OfficialResult.objects.exists()


def test_a_windows_1251_file_with_semicolons_is_read(db, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(csv_text(row(11), row(12), sep=";").encode("cp1251"))
    import_small(path)
    assert OfficialResult.objects.get(uik=11).region == "Город N"
    assert OfficialResult.objects.get(uik=12).lines["c2"] == 190


def test_a_tab_separated_file_with_a_byte_order_mark_is_read(db, tmp_path):
    path = tmp_path / "export.tsv"
    path.write_bytes(csv_text(row(11), sep="\t").encode("utf-8-sig"))
    import_small(path)
    assert OfficialResult.objects.get().tik == "1 Центральная"


def test_headers_are_matched_whatever_their_case_spacing_and_yo(db, tmp_path):
    election = imported_election(tmp_path, row(11))
    header = [name.upper().replace(" ", "  ") for name in HEADER]
    header[14] = LINES_12[11].replace("учтенных", "учтённых")
    header[15] = " иванов "
    path = tmp_path / "again.csv"
    path.write_text(csv_text(row(11, c15=301, c16=189), header=header), encoding="utf-8")
    run(path, election=election.pk)
    assert OfficialResult.objects.get().lines["c1"] == 301


@pytest.mark.parametrize(
    ("header", "data", "message"),
    [
        (HEADER[:16] + HEADER[17:], CLEAN[:16] + CLEAN[17:], "missing columns: “14 Петров”"),
        ([*HEADER[:17], "Сидоров", "url"], [*CLEAN[:17], 5, CLEAN[17]], "form: “Сидоров”"),
        ([*HEADER[:17], "Петров", "url"], [*CLEAN[:17], 190, CLEAN[17]], "given twice: “Петров”"),
        (
            [*HEADER[:15], "Иванова", *HEADER[16:]],
            CLEAN,
            "missing columns: “13 Иванов”; columns not in the election's form: “Иванова”",
        ),
    ],
)
def test_columns_that_do_not_match_the_form_are_named_and_nothing_is_read(
    db, tmp_path, header, data, message
):
    election = imported_election(tmp_path, row(11))
    path = tmp_path / "again.csv"
    path.write_text(csv_text(data, header=header), encoding="utf-8")
    with pytest.raises(CommandError, match=re.escape(message)):
        run(path, election=election.pk)
    assert ResultsImport.objects.latest("started_at").rows_read == 0


def test_a_file_without_a_header_is_read_by_position_when_the_count_matches(db, tmp_path):
    election = imported_election(tmp_path, row(11))
    path = tmp_path / "bare.csv"
    path.write_text(csv_text(row(12), row(13)).split("\n", 1)[1], encoding="utf-8")
    run(path, election=election.pk)
    assert OfficialResult.objects.get(uik=12).lines["c2"] == 190


def test_a_file_without_a_header_and_another_count_is_refused(db, tmp_path):
    election = imported_election(tmp_path, row(11))
    path = tmp_path / "bare.csv"
    path.write_text(",".join(str(cell) for cell in CLEAN[:16]) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no header row and 16 columns"):
        run(path, election=election.pk)
