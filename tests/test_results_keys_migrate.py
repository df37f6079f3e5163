"""Migrating to one key per station: official rows stored twice under two spellings of a
region become one, the latest; rows of other stations and elections are kept."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("reports", "0019_protocol_photo_accesses")]
AFTER = [("reports", "0020_results_import_keys")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def _back_to_the_latest():
    """Whatever happens, later tests find the database fully migrated."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.usefixtures("_back_to_the_latest")
@pytest.mark.django_db(transaction=True)
def test_a_station_stored_under_two_spellings_of_its_region_becomes_one_row():
    apps = migrate(BEFORE)
    Election = apps.get_model("reports", "Election")
    OfficialResult = apps.get_model("reports", "OfficialResult")
    election = Election.objects.create(name="2018", date=dt.date(2018, 3, 18))
    other = Election.objects.create(name="2016", date=dt.date(2016, 9, 18))
    for region, uik, lines, on in [
        ("город Москва", 850, {"c1": 1}, election),
        ("Город  Москва", 850, {"c1": 2}, election),
        ("Город Москва", 851, {"c1": 3}, election),
        ("город Москва", 850, {"c1": 4}, other),
    ]:
        OfficialResult.objects.create(election=on, region=region, tik="1", uik=uik, lines=lines)
    apps = migrate(AFTER)
    OfficialResult = apps.get_model("reports", "OfficialResult")
    kept = OfficialResult.objects.order_by("election_id", "uik")
    assert [(r.region_key, r.uik, r.lines["c1"]) for r in kept] == [
        ("город москва", 850, 2),
        ("город москва", 851, 3),
        ("город москва", 850, 4),
    ]
