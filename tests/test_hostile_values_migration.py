"""The migration that adds the time and count CHECK constraints first empties the values
they would refuse, so `migrate` succeeds on a database that already holds them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from reports.models import Report

from .api_helpers import report_send

pytestmark = pytest.mark.django_db(transaction=True)


def migration_previous() -> tuple[str, str]:
    graph = MigrationExecutor(connection).loader.graph
    [node] = [
        n for n in graph.nodes if n[0] == "reports" and n[1].endswith("hostile_values_guarded")
    ]
    [previous] = [p for p in graph.node_map[node].parents if p.key[0] == "reports"]
    return previous.key


def test_a_device_time_before_2000_is_emptied_and_the_report_kept(stations):
    report = report_send(stations[101], "V1")
    previous = migration_previous()
    MigrationExecutor(connection).migrate([previous])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE reports_report SET occurred_at = %s WHERE id = %s",
            ["1970-01-01 00:00:00+00:00", report.pk],
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # this one, and any after it

    assert Report.objects.filter(pk=report.pk, occurred_at=None).exists()
