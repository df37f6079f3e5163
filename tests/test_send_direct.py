"""The send endpoint cleans a plain report without building a form
(forms.reports.report_input_direct): whatever it accepts, the form accepts with the same
content; whatever is unusual, it leaves to the form and its messages."""

import datetime as dt
import uuid
from collections import Counter

import pytest
from django.http import QueryDict
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.forms.reports import FLAGS, ReportForm, report_input_direct
from reports.models import Category, Report
from reports.models.core import REPORT_COUNT_MAX

from .test_send_key import SEND, script, send_key

pytestmark = pytest.mark.django_db


def phone_body(**overrides) -> dict[str, str]:
    """As static/reports/report.js sends a report from an observer's own station."""
    body = {
        "uuid": str(uuid.uuid4()),
        "station": "101",
        "category": "V3",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "description": "Карусель у входа",
        "count": "7",
        "needs_mobile_group": "",
        "needs_lawyer": "on",
    }
    body.update(overrides)
    return body


def query(values: dict[str, list[str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, items in values.items():
        data.setlist(name, items)
    return data


def both(data: QueryDict, election, station):
    with timezone.override(election.tz):
        direct = report_input_direct(data, election=election, assigned=[station])
        form = ReportForm(data, election=election, assigned=[station])
        valid = form.is_valid()
        return direct, valid, form.report_input() if valid else form.errors


def test_the_phones_report_is_cleaned_as_the_form_cleans_it(election, stations, categories):
    data = query({name: [value] for name, value in phone_body().items()})
    direct, valid, from_form = both(data, election, stations[101])
    assert valid
    assert direct is not None
    assert direct == from_form
    assert direct.station == stations[101] and direct.needs_lawyer is True


@pytest.mark.parametrize(
    "overrides",
    [
        {"station": "other", "station_number": "101"},  # typed in: the form looks it up
        {"station_number": "abc"},  # the form would refuse the number it then ignores
        {"category": "X1", "description": "  "},  # "Other" says nothing by itself
        {"occurred_at": "2000-01-01T00:00"},  # before the election
        {"count": str(REPORT_COUNT_MAX + 1)},
        {"uuid": "not-a-uuid"},
    ],
)
def test_anything_unusual_is_left_to_the_form(election, stations, categories, overrides):
    data = query({name: [value] for name, value in phone_body(**overrides).items()})
    assert both(data, election, stations[101])[0] is None


def test_the_endpoint_answers_the_forms_messages_for_what_it_leaves(observer_client, categories):
    key = send_key(observer_client)
    answer = Client().post(SEND, phone_body(category="X1", description=" "), **script(key))
    assert answer.status_code == 400
    assert answer.json() == {
        "errors": {
            "description": ["Опишите, что произошло: «Прочее» само по себе ничего не говорит."]
        }
    }
    assert not Report.objects.exists()


def test_a_direct_report_is_stored_as_the_forms(observer_client, observer, categories):
    key = send_key(observer_client)
    body = phone_body()
    answer = Client().post(SEND, body, **script(key))
    assert answer.status_code == 201 and answer.json()["status"] == "received"
    report = Report.objects.get(uuid=body["uuid"])
    assert (report.observer, report.station.number, report.category.code) == (observer, 101, "V3")
    assert (report.description, report.count, report.needs_lawyer) == ("Карусель у входа", 7, True)
    assert (
        report.occurred_at.astimezone(report.election.tz).strftime("%Y-%m-%dT%H:%M")
        == (body["occurred_at"])
    )


def now_text(shift: dt.timedelta, fmt: str = "%Y-%m-%dT%H:%M") -> str:
    return (timezone.localtime(timezone.now(), dt.UTC) + shift).strftime(fmt)


def values_of(*pool: str) -> st.SearchStrategy[list[str]]:
    """None to two values for one name (a repeated name is read as the form reads it)."""
    one = st.one_of(st.sampled_from(pool), st.text(max_size=12))
    return st.lists(one, max_size=2)


@st.composite
def bodies(draw, codes: list[str]) -> QueryDict:
    ok_uuid = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4))
    shape = {
        "uuid": values_of(ok_uuid, ok_uuid.upper(), "{" + ok_uuid + "}", ok_uuid.replace("-", "")),
        "station": values_of("101", "102", "other", " 101", ""),
        "station_number": values_of("", "101", "201", "0", "99999", "1.0", " 101"),
        "category": values_of(*codes, "", "v3"),
        "occurred_at": values_of(
            now_text(dt.timedelta(minutes=-5)),
            now_text(dt.timedelta(hours=2)),
            now_text(dt.timedelta(days=-20)),
            now_text(dt.timedelta(0), "%Y-%m-%dT%H:%M:%S"),
            now_text(dt.timedelta(0), "%Y-%m-%d %H:%M"),
            "2026-13-01T00:00",
            "",
        ),
        "description": values_of("", "  ", " Карусель ", "a\x00b", "x" * 5001),
        "count": values_of("", "0", "12", "-1", "1.0", " 5", "1_000", str(REPORT_COUNT_MAX + 1)),
        **{flag: values_of("", "on", "off", "false", "0", "true", "1") for flag in FLAGS},
    }
    # Mostly the phone's plain report, with a few fields drawn from the hostile pools.
    plain = {name: [value] for name, value in phone_body(uuid=ok_uuid).items()}
    changed = draw(st.sets(st.sampled_from(sorted(shape)), max_size=3))
    return query({**plain, **{name: draw(shape[name]) for name in changed}})


def test_whatever_it_accepts_the_form_accepts_with_the_same_content(election, stations, categories):
    codes = list(Category.objects.values_list("code", flat=True))
    outcomes = Counter()

    @settings(
        max_examples=600, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )  # fmt: skip
    @given(data=bodies(codes))
    def check(data: QueryDict) -> None:
        direct, valid, from_form = both(data, election, stations[101])
        if direct is None:
            outcomes["left to the form"] += 1
            return
        assert valid, from_form
        assert direct == from_form
        outcomes["direct"] += 1

    check()
    # Both ways were walked, or the property says nothing.
    assert outcomes["direct"] >= 50 and outcomes["left to the form"] >= 50, outcomes
