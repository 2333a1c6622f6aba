"""A station message's registered handler run on the calling thread, database work included:
what the per-kind query budgets (tests/test_query_budgets.py) and the handler cost benchmark
(benchmarks/handler_costs.py) count, with no server, socket or thread pool in between.

In a server, async handlers hand their database work to the group commit's thread or the
sessions' pool; here both executors run it in place, on this thread, with the event loop hidden
while it runs: to the ORM it is then plain synchronous code on the caller's own connection, as
on a pool thread."""
import asyncio
from concurrent.futures import Executor, Future
from contextlib import contextmanager

from django.conf import settings

from . import ingest, sessiondb
from .router import router


class CallingThreadExecutor(Executor):
    """Runs work in place as synchronous code: Django keeps a thread's connection apart from
    the one of an event loop running in it, so the loop is hidden while the work runs."""

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        loop = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(None)
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        finally:
            asyncio.events._set_running_loop(loop)
        return future


def run_here(function):
    """SessionDatabaseCall's stand-in: the work done in place, without asgiref's thread hand-off
    (whose bookkeeping would send a dashboard push back to the loop this thread is blocking)."""
    async def call(*args, **kwargs):
        return CallingThreadExecutor().submit(function, *args, **kwargs).result()
    return call


@contextmanager
def database_work_here():
    saved = ingest._writer, sessiondb.SessionDatabaseCall
    ingest._writer = ingest.GroupCommit(CallingThreadExecutor(), settings.OCPP_INGEST_BATCH_MAX)
    sessiondb.SessionDatabaseCall = run_here
    try:
        yield
    finally:
        ingest._writer, sessiondb.SessionDatabaseCall = saved


def handle(session, action, payload):
    """The answer of the handler registered for `action` in the session's OCPP version."""
    handler, is_async = router.lookup(session.ocpp_version, action)
    if not is_async:
        return handler(session, payload)
    with database_work_here():
        return asyncio.run(handler(session, payload))
