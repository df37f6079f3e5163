"""Celery tasks, thin: each loads rows by id, calls one service, and owns retry and logging.

Every task has a stable name, `reports.<function>`, by which services enqueue it
(`reports.services.queue`) and beat schedules it (settings), so no service imports a task
module. Importing this package registers them all (done by ReportsConfig.ready and by
the worker's autodiscovery).
"""

from reports.tasks import (  # noqa: F401 (registers the tasks)
    aggregation,
    coverage,
    exports,
    housekeeping,
    policy,
    protocols,
    quickcount,
)
