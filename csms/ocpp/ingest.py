"""Group commit: the hot path's writes of many stations made durable in one database transaction.

Handlers of the most frequent messages (meter readings, the usual TransactionEvent) submit a
*job* — a function doing that message's database work — and await its result. Jobs queue while a
batch is being written; the next batch takes everything queued and runs it on one thread, in one
transaction, and each submitter gets its result only after the COMMIT: a station is answered
once its write is durable, and a thousand writes cost one commit instead of a thousand.

There is no timer: under light load a batch holds one job and adds no delay; under heavy load
batches grow by themselves while the previous one commits (OCPP_INGEST_BATCH_MAX bounds them).
Up to OCPP_INGEST_WRITERS batches are written at once on PostgreSQL (default 1): a writer thread
spends much of a batch waiting for each statement's round trip and then for the GIL to come back
to it; more writers overlap those waits, at the price of more threads taking turns on the GIL
(measured: no gain once the process is CPU-bound, benchmarks/README.md).
A job that raises makes its batch roll back; every job of it then runs again alone, in its own
transaction, so one failing message fails only itself. Jobs must therefore change nothing outside
the database until the commit: `transaction.on_commit` is where they update what the session
keeps in memory (Django runs those callbacks after the batch's COMMIT, and drops them on a
rollback).

A job may also carry `write_together`: a function taking every job of the batch that carries the
same one and returning their results in order. Jobs of one kind then share their statements (one
multi-row UPDATE or INSERT for the whole batch instead of one per message): a batch costs a few
round trips, not a few per message.

Jobs of one station never share a batch out of order: a consumer handles one frame at a time,
so a station has at most one job queued. A slow job delays the others of its batch, so only
bounded work belongs here (a few statements, no waiting on other services); anything else stays
on the sessions' thread pool (`sessiondb.SessionDatabaseCall`).

Other layers may share work across a batch through `batch_scopes`: context managers every batch
runs inside, its transaction and its after-commit callbacks included. `OncePerBatch` is the usual
one: a read made once per batch, not once per message (the webhooks' active subscriptions, the
transactions holding a site allocation)."""
import asyncio
import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection, transaction

from csms import metrics

from . import sessiondb

logger = logging.getLogger(__name__)


class GroupCommit:
    def __init__(self, executor, max_jobs, writers=1):
        self.executor = executor
        self.max_jobs = max_jobs
        self.writers = writers  # batches written at once (each on its own thread and connection)
        self.waiting = []  # (job, future), filled on the event loop
        self.writing = 0

    def submit(self, job):
        """Queue `job` for the next batch; await the returned future for its result."""
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((job, future))
        if self.writing < self.writers:
            self.writing += 1
            asyncio.get_running_loop().create_task(self._write_batches())
        return future

    async def _write_batches(self):
        loop = asyncio.get_running_loop()
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[:self.max_jobs], self.waiting[self.max_jobs:]
                try:
                    outcomes = await loop.run_in_executor(self.executor, run_batch,
                                                          [job for job, _ in batch])
                except BaseException as error:  # the executor itself failed (shutdown)
                    outcomes = [(False, error)] * len(batch)
                metrics.ingest_batch(len(batch))
                for (_, future), (ok, value) in zip(batch, outcomes):
                    if future.done():
                        continue  # its session went away meanwhile
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            self.writing -= 1
            if self.waiting and self.writing < self.writers:
                self.writing += 1  # submitted while the last batch was being resolved
                loop.create_task(self._write_batches())


def run_batch(jobs):
    """On the writer thread: all jobs in one transaction; after a failure, each one alone.
    Returns [(ok, result or exception)] in the jobs' order."""
    sessiondb.drop_dead_connections(settings.DATABASE_IDLE_CHECK_SECONDS)
    try:
        with contextlib.ExitStack() as scopes:
            for scope in batch_scopes:
                scopes.enter_context(scope())
            return _run_batch(jobs)
    finally:
        sessiondb.drop_broken_connections()


def _run_batch(jobs):
    if len(jobs) > 1:
        try:
            with transaction.atomic():
                return [(True, result) for result in _run_together(jobs)]
        except Exception as error:
            logger.info("A batch of %d writes rolled back (%s); writing each alone",
                        len(jobs), error)
    outcomes = []
    for job in jobs:
        try:
            with transaction.atomic():
                outcomes.append((True, _run_together([job])[0]))
        except Exception as error:
            outcomes.append((False, error))
    return outcomes


def _run_together(jobs):
    """Every job's result in order: plain jobs called one by one, the others by their kind's
    `write_together` (the jobs of one kind come from different stations, so order between kinds
    does not matter)."""
    results = [None] * len(jobs)
    kinds = {}
    for index, job in enumerate(jobs):
        together = getattr(job, "write_together", None)
        if together is None:
            results[index] = job()
        else:
            kinds.setdefault(together, []).append(index)
    for together, indexes in kinds.items():
        for index, result in zip(indexes, together([jobs[index] for index in indexes])):
            results[index] = result
    return results


# Context-manager factories (no arguments) every batch runs inside; registered at app start.
batch_scopes = []

_UNREAD = object()


class OncePerBatch:
    """A read shared by a batch: inside `scope()` (on this thread) `read()` runs at most once and
    every call gets its result; outside, each call reads. Register `scope` in `batch_scopes`."""

    def __init__(self, read):
        self.read = read
        self.local = threading.local()

    @contextlib.contextmanager
    def scope(self):
        if getattr(self.local, "open", False):
            yield
            return
        self.local.open, self.local.value = True, _UNREAD
        try:
            yield
        finally:
            self.local.open, self.local.value = False, _UNREAD

    def __call__(self):
        if not getattr(self.local, "open", False):
            return self.read()
        return self.within_batch()

    def within_batch(self):
        """The batch's value (read on first use), or None outside a batch: for a read that only
        pays off when a batch shares it."""
        if not getattr(self.local, "open", False):
            return None
        if self.local.value is _UNREAD:
            self.local.value = self.read()
        return self.local.value


def share_per_batch(once):
    """Register a OncePerBatch's scope (once, however often the app starts)."""
    if once.scope not in batch_scopes:
        batch_scopes.append(once.scope)

_writer = None


def writer():
    """This process's group commit (made on first use, in the event loop's thread)."""
    global _writer
    if _writer is None:
        if connection.vendor == "sqlite":
            # SQLite takes one writer at a time: the sessions' own (single) thread writes the
            # batches too, so they never wait on each other's lock.
            executor, writers = sessiondb.session_executor(), 1
        else:
            writers = settings.OCPP_INGEST_WRITERS
            executor = ThreadPoolExecutor(writers, "ocpp-ingest")
        _writer = GroupCommit(executor, settings.OCPP_INGEST_BATCH_MAX, writers)
    return _writer


def enabled():
    return settings.OCPP_INGEST_GROUP_COMMIT


async def submit(job):
    return await writer().submit(job)
