"""The thread pool that runs OCPP sessions' database work, each thread keeping its connection."""
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connections as db_connections

_database_threads = ThreadPoolExecutor(settings.OCPP_DATABASE_THREADS, "ocpp-db")


class SessionDatabaseCall(SyncToAsync):
    """Run a session's database work on the OCPP thread pool, keeping each thread's connection.

    Sessions are independent: on a pool a station never waits behind another's round trip, and a
    consumer still handles one frame at a time, so each station's messages stay in order. The
    pool's threads live as long as the process, so their connections are kept (a fixed number per
    process) instead of reconnecting per message; a broken one is dropped and reopened."""

    def __init__(self, function):
        super().__init__(function, thread_sensitive=False, executor=_database_threads)

    def thread_handler(self, loop, *args, **kwargs):
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            for connection in db_connections.all(initialized_only=True):
                if connection.connection is not None and connection.errors_occurred:
                    if connection.is_usable() and not connection.in_atomic_block:
                        connection.errors_occurred = False
                    else:
                        connection.close()


database_sync_to_async = SessionDatabaseCall
