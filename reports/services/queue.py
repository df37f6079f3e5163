"""Handing work to the workers by task name, so that no service imports a task module.

Every task registers under a stable name (`reports.<function>`, see `reports.tasks`), and
`ReportsConfig.ready` imports the task modules in every process, so the in-process mode
without Redis finds them as a worker does. Work handed over here is always recomputed from
stored rows, so a broker that cannot take a message only delays it until a periodic run.
"""

import logging

from django.db import transaction
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from observer.celery import app

log = logging.getLogger(__name__)

BROKER_ERRORS = (OperationalError, RedisError, OSError)


def task_enqueue(name: str, *args) -> bool:
    """Send one task now; False, logged, when the broker cannot take it.

    Nobody waits for a task's result (its effects are in the database), so none is kept:
    sending then never touches the result backend, which with Redis down would retry for
    twenty seconds and raise a RuntimeError of its own.

    In-process mode (no REDIS_URL) runs the task here, inside the caller's request: its
    failure is logged and returned as False, as a worker's would stay in the worker, so a
    volunteer's report is still answered as received and a later run does the work.
    """
    try:
        app.tasks[name].apply_async(args, ignore_result=True)
    except BROKER_ERRORS:
        log.warning("could not enqueue %s%r; a periodic run will do the work", name, args)
        return False
    except Exception:
        if not app.conf.task_always_eager:
            raise
        log.exception("task %s%r failed in-process; a later run will do the work", name, args)
        return False
    return True


def task_enqueue_on_commit(name: str, *args) -> None:
    """Send one task once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task_enqueue(name, *args))
