"""Django's PostgreSQL backend, with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django asks a persistent connection `SELECT 1` before the first
query of every request: on the send endpoint that was one round trip of three, for every
report (docs/benchmarks.md, issue 18). A connection that PostgreSQL ended (a restart, a
terminated backend, an idle timeout) has something to read on its socket: the server's last
message, then the end of the stream. An idle connection that PostgreSQL still serves has
nothing to read, since the server speaks only when asked. So the check looks at the socket
without waiting, and closes the connection when anything waits there; Django then opens a
new one. A connection that is not idle, or that had errors, is asked as before.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if self.pool or self.connection is None:
            return super().close_if_health_check_failed()
        if not self.health_check_enabled or self.health_check_done:
            return None
        if not self.is_open_and_idle():
            self.close()
        self.health_check_done = True
        return None

    def is_open_and_idle(self) -> bool:
        """True when the server has not closed the connection, without asking it."""
        connection = self.connection
        if connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return self.is_usable()
        # poll, not select: select() refuses descriptors above 1023.
        waiting = select.poll()
        waiting.register(connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        return not waiting.poll(0)
