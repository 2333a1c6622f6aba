"""Long-lived threads that keep their database connections: the OCPP sessions' pool and the
server's background threads (beat, message log), each making sure its connection still works."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connection as db_connection
from django.db import connections as db_connections

_database_threads = ThreadPoolExecutor(settings.OCPP_DATABASE_THREADS, "ocpp-db")
_last_used = threading.local()


class KeptConnectionCall(SyncToAsync):
    """Run database work on a thread that keeps its connection for the life of the process.

    A kept connection is health-checked before use once it has been idle longer than
    `idle_check` seconds (DATABASE_IDLE_CHECK_SECONDS by default): a database restart kills idle
    connections silently, and their next query would fail. A connection used a moment ago is not
    checked (no extra query on a busy path). After a failure a broken connection is dropped, so
    the next call opens a new one."""

    def __init__(self, function, executor, idle_check=None):
        super().__init__(function, thread_sensitive=False, executor=executor)
        self.idle_check = settings.DATABASE_IDLE_CHECK_SECONDS if idle_check is None else idle_check

    def thread_handler(self, loop, *args, **kwargs):
        drop_dead_connections(self.idle_check)
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            drop_broken_connections()


def drop_dead_connections(idle_check):
    """Before work: close this thread's connections that idled past `idle_check` s and fail a
    round trip (the next query opens a new one)."""
    now = time.monotonic()
    for connection in db_connections.all(initialized_only=True):
        if connection.connection is None or connection.in_atomic_block:
            continue
        last_used = getattr(_last_used, connection.alias, None)
        if last_used is not None and now - last_used <= idle_check:
            continue
        if not connection.is_usable():
            connection.close()


def drop_broken_connections():
    """After work: keep a connection that erred but still works, close one that does not."""
    now = time.monotonic()
    for connection in db_connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        if connection.errors_occurred:
            if connection.is_usable() and not connection.in_atomic_block:
                connection.errors_occurred = False
            else:
                connection.close()
                continue
        setattr(_last_used, connection.alias, now)


def database_started_at():
    """When the database server last started (PostgreSQL; None elsewhere). No process could beat
    while it was down, so a beat missed before this time proves nothing about that process."""
    if db_connection.vendor != "postgresql":
        return None
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_postmaster_start_time()")
        return cursor.fetchone()[0]


class SessionDatabaseCall(KeptConnectionCall):
    """Run a session's database work on the OCPP thread pool, keeping each thread's connection.

    Sessions are independent: on a pool a station never waits behind another's round trip, and a
    consumer still handles one frame at a time, so each station's messages stay in order. The
    pool's threads live as long as the process, so their connections are kept (a fixed number per
    process) instead of reconnecting per message."""

    def __init__(self, function):
        super().__init__(function, _database_threads)


database_sync_to_async = SessionDatabaseCall


def session_executor():
    """The sessions' thread pool (group commit writes on it where the database takes one writer)."""
    return _database_threads
