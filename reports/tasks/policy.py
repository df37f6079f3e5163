"""What every task shares: retry on transient database errors, and connection reuse.

Policy (docs/task-policy.md): tasks take ids, are safe to run twice, use JSON, have time
limits, use acks_late because running twice is harmless, and retry with backoff only on
transient database errors (connection lost, deadlock victim, serialization failure).
"""

from celery.signals import task_postrun, task_prerun
from django.db import InterfaceError, OperationalError, close_old_connections

TRANSIENT = (OperationalError, InterfaceError)
RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 5,
}


@task_prerun.connect
@task_postrun.connect
def database_connections_tidy(sender=None, **kwargs) -> None:
    """Keep a worker's database connection across tasks, as Django keeps it across requests.

    Celery's Django fix-up would close it after every task unless CELERY_DB_REUSE_MAX is
    set (settings), and a new PostgreSQL connection costs more than a small task. Django's
    own rule then applies: drop a connection that is broken or older than CONN_MAX_AGE.
    """
    if not getattr(sender.request, "is_eager", False):
        close_old_connections()
