"""Alerts: the rules on their edges, one alert per key, and delivery to the okrug's
coordinators by email and webhook, batched and sent once."""

import pytest
from django.core import mail

from reports.models import Alert, AlertDelivery, ReviewStatus
from reports.services.aggregation import reports_aggregate
from reports.services.alerts import alert_subscription_create, alerts_deliver

from .aggregation_helpers import MINUTE, observer_make, report_make, webhook_receiving

pytestmark = pytest.mark.django_db


@pytest.fixture
def noon(election_day_noon):
    return election_day_noon


@pytest.fixture
def station(stations):
    return stations[101]


@pytest.fixture
def webhook_server():
    with webhook_receiving() as server:
        yield server


def critical_reports(station, category, times) -> None:
    for at in times:
        report_make(station=station, category=category, at=at)
    reports_aggregate(batch=100)


def test_two_critical_reports_raise_no_alert(station, categories, noon):
    critical_reports(station, categories["V1"], [noon, noon + MINUTE])
    assert not Alert.objects.exists()


def test_three_critical_reports_within_thirty_minutes_raise_one_alert(station, categories, noon):
    times = [noon, noon + 10 * MINUTE, noon + 30 * MINUTE]
    critical_reports(station, categories["V1"], times)
    alert = Alert.objects.get()
    assert (alert.rule, alert.station, alert.count) == ("critical_burst", station, 3)


def test_critical_reports_of_different_categories_add_up(station, categories, noon):
    codes = ["V1", "V2", "C4"]
    for minute, code in enumerate(codes):
        report_make(station=station, category=categories[code], at=noon + minute * MINUTE)
    reports_aggregate(batch=10)
    assert Alert.objects.filter(rule="critical_burst").count() == 1


def test_critical_reports_spread_past_the_window_raise_no_alert(station, categories, noon):
    critical_reports(station, categories["V1"], [noon, noon + 20 * MINUTE, noon + 31 * MINUTE])
    assert not Alert.objects.exists()


def test_a_continuing_burst_raises_no_second_alert(station, categories, noon):
    critical_reports(station, categories["V1"], [noon + i * MINUTE for i in range(3)])
    critical_reports(station, categories["V1"], [noon + i * MINUTE for i in range(3, 6)])
    assert Alert.objects.count() == 1


def test_serious_and_rejected_reports_do_not_set_off_the_burst(station, categories, noon):
    report_make(station=station, category=categories["V3"], at=noon)
    report_make(station=station, category=categories["V1"], at=noon, status=ReviewStatus.REJECTED)
    critical_reports(station, categories["V1"], [noon + MINUTE, noon + 2 * MINUTE])
    assert not Alert.objects.exists()


def test_a_threat_raises_an_alert_at_once(station, categories, noon):
    report = report_make(station=station, category=categories["R4"], at=noon)
    reports_aggregate(report_ids=[report.pk])
    report.refresh_from_db()
    alert = Alert.objects.get()
    assert (alert.rule, alert.incident_id) == ("immediate", report.incident_id)


def test_more_witnesses_of_one_threat_raise_no_second_alert(station, categories, noon):
    report_make(station=station, category=categories["R4"], at=noon)
    reports_aggregate(batch=10)
    witness = observer_make(station, "Удод")
    report_make(station=station, category=categories["R4"], at=noon + MINUTE, observer=witness)
    reports_aggregate(batch=10)
    assert Alert.objects.filter(rule="immediate").count() == 1


def test_a_threat_at_another_station_raises_another_alert(stations, categories, noon):
    for number in (101, 201):
        report_make(station=stations[number], category=categories["R4"], at=noon)
    reports_aggregate(batch=10)
    assert Alert.objects.filter(rule="immediate").count() == 2


@pytest.fixture
def surge_rules(settings):
    settings.ALERT_TIK_MIN_COUNT = 6
    settings.ALERT_TIK_FACTOR = 3


def tik_reports(stations, categories, start, count) -> None:
    for i in range(count):
        report_make(station=stations[101 + i % 2], category=categories["V5"], at=start + i * MINUTE)


def test_a_quiet_tik_surging_raises_an_alert(surge_rules, stations, categories, noon):
    tik_reports(stations, categories, noon - 120 * MINUTE, 1)
    tik_reports(stations, categories, noon, 6)
    reports_aggregate(batch=100)
    alert = Alert.objects.get(rule="tik_surge")
    assert (alert.tik, alert.count) == (stations[101].tik, 6)


def test_a_tik_reporting_steadily_raises_no_surge_alert(surge_rules, stations, categories, noon):
    for hours_before in (3, 2, 1):
        tik_reports(stations, categories, noon - hours_before * 60 * MINUTE, 4)
    tik_reports(stations, categories, noon, 8)
    reports_aggregate(batch=100)
    assert not Alert.objects.filter(rule="tik_surge").exists()


def test_a_surge_below_the_minimum_count_raises_no_alert(surge_rules, stations, categories, noon):
    tik_reports(stations, categories, noon, 5)
    reports_aggregate(batch=100)
    assert not Alert.objects.exists()


# --- Delivery


@pytest.fixture
def subscriptions(stations):
    central, north = stations[101].okrug, stations[201].okrug
    return {
        "central": alert_subscription_create(okrug=central, email="cao@example.org"),
        "north": alert_subscription_create(okrug=north, email="sao@example.org"),
        "everything": alert_subscription_create(okrug=None, email="hq@example.org"),
    }


def threat(station, categories, at) -> None:
    report_make(station=station, category=categories["R4"], at=at)
    reports_aggregate(batch=10)


def test_an_alert_goes_to_the_coordinators_of_its_okrug_and_to_hq(
    subscriptions, station, categories, noon
):
    threat(station, categories, noon)
    assert alerts_deliver() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["cao@example.org", "hq@example.org"]
    assert str(station.number) in mail.outbox[0].body


def test_alerts_are_batched_into_one_email_per_coordinator(
    subscriptions, stations, categories, noon
):
    threat(stations[101], categories, noon)
    threat(stations[102], categories, noon)
    assert alerts_deliver() == 4
    central = [m for m in mail.outbox if m.to == ["cao@example.org"]]
    assert len(central) == 1
    assert all(str(n) in central[0].body for n in (101, 102))


def test_a_second_delivery_run_sends_nothing(subscriptions, station, categories, noon):
    threat(station, categories, noon)
    alerts_deliver()
    assert alerts_deliver() == 0
    assert len(mail.outbox) == 2


def test_the_email_never_names_the_reporter(subscriptions, station, categories, observer, noon):
    report_make(station=station, category=categories["R4"], at=noon, observer=observer)
    reports_aggregate(batch=10)
    alerts_deliver()
    assert all("Сова" not in m.body and "Иванова" not in m.body for m in mail.outbox)


def test_a_webhook_receives_the_alerts_as_json_once(webhook_server, station, categories, noon):
    url = f"http://127.0.0.1:{webhook_server.server_port}/hook"
    alert_subscription_create(okrug=station.okrug, webhook_url=url)
    threat(station, categories, noon)
    assert alerts_deliver() == 1
    assert alerts_deliver() == 0
    [payload] = webhook_server.received
    [alert] = payload["alerts"]
    assert (alert["rule"], alert["station"], alert["okrug"]) == ("immediate", 101, "ЦАО")


def test_a_failed_webhook_is_retried_by_the_next_run(webhook_server, station, categories, noon):
    port = webhook_server.server_port
    webhook_server.shutdown()
    webhook_server.server_close()
    alert_subscription_create(okrug=station.okrug, webhook_url=f"http://127.0.0.1:{port}/")
    threat(station, categories, noon)
    assert alerts_deliver() == 0
    delivery = AlertDelivery.objects.get()
    assert (delivery.sent_at, delivery.attempts, delivery.claimed_at) == (None, 1, None)
    assert delivery.last_error
