"""Background work of one ASGI server process (started by its first station connection): the
liveness beat, the message-log writer, and on the embedded default the CELERY_BEAT_SCHEDULE."""
import asyncio
import contextvars
import importlib
import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from celery import current_app
from celery.schedules import schedule as every
from django.conf import settings
from django.db import connection
from django.utils import timezone

from . import messagelog, presence
from .sessiondb import KeptConnectionCall

logger = logging.getLogger(__name__)
_tasks = []
_loop = None
_coalescing = {}
_coalescing_lock = threading.Lock()
# Each background job has a thread (and kept database connection) of its own: the beat queued
# behind a backlog would be late, and a late beat makes other processes count this one dead.
_beat_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="server-beat")
_log_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="message-log")
_background_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="server-background")
_beat_started_at = None  # monotonic time the beat loop started, None before
_beat_succeeded_at = None  # monotonic time of this process's last successful beat
# False in all but one of several server workers (runcsms --workers): one runs the schedule.
runs_beat_schedule = True


def coalesce(function, key, delay=0.25):
    """Call `function(keys)` once, `delay` s from now, for every key gathered meanwhile, on the
    server's background thread. False outside a server process: the caller then acts at once."""
    loop = _loop
    if loop is None or loop.is_closed():
        return False
    with _coalescing_lock:
        keys = _coalescing.setdefault(function, set())
        first = not keys
        keys.add(key)
    if first:
        # A fresh context: the caller's (a sync_to_async thread) must not leak into the later
        # call (a thread-sensitive one would refuse to run: "would deadlock").
        loop.call_soon_threadsafe(loop.call_later, delay, _run_coalesced, function,
                                  context=contextvars.Context())
    return True


def _run_coalesced(function):
    with _coalescing_lock:
        keys = _coalescing.pop(function, set())
    if keys:
        task = _loop.create_task(_call_coalesced(function, keys))
        _tasks.append(task)
        task.add_done_callback(_tasks.remove)


async def _call_coalesced(function, keys):
    try:
        await KeptConnectionCall(function, _background_thread)(keys)
    except Exception:
        logger.exception("%s failed for %d keys", function.__name__, len(keys))


def ensure_started():
    global _loop, _beat_started_at
    if _loop is not None:
        return
    # Vendor handler modules load after every app's own handlers, so they may replace one.
    for module in settings.OCPP_HANDLER_MODULES:
        importlib.import_module(module)
    loop = _loop = asyncio.get_running_loop()
    _beat_started_at = time.monotonic()
    _tasks.append(loop.create_task(_beat_forever()))
    _tasks.append(loop.create_task(_flush_forever()))
    if settings.CELERY_TASK_ALWAYS_EAGER and runs_beat_schedule:
        _tasks.append(loop.create_task(_run_beat_schedule_forever()))


def beat_age():
    """Seconds since this process last beat successfully (since the loop started, before the first
    one), or None when the beat loop is not running (no station has connected yet)."""
    if _beat_started_at is None:
        return None
    return time.monotonic() - (_beat_succeeded_at or _beat_started_at)


def _beat(recovering):
    """One beat, on the beat thread. Its connection is checked first (one round trip per
    interval), so the first beat after a database restart succeeds instead of failing on it."""
    restarted = connection.connection is not None and not connection.is_usable()
    if restarted:
        connection.close()
    presence.beat()
    if (recovering or restarted) and getattr(connection, "pool", None) is not None:
        # The database went away: the pool's idle connections died with it. Drop them at once
        # rather than have each request meet one.
        connection.pool.check()


async def _beat_forever():
    global _beat_succeeded_at
    failing_since = None
    while True:
        try:
            await KeptConnectionCall(_beat, _beat_thread, idle_check=math.inf)(
                failing_since is not None)
        except Exception as error:
            if failing_since is None:
                failing_since = time.monotonic()
                logger.exception("server beat failed; retrying every %g s",
                                 settings.OCPP_SERVER_BEAT_SECONDS)
            else:
                logger.debug("server beat still failing: %s", error)
        else:
            _beat_succeeded_at = time.monotonic()
            if failing_since is not None:
                logger.warning("server beat back after %.1f s of failures",
                               _beat_succeeded_at - failing_since)
                failing_since = None
        await asyncio.sleep(settings.OCPP_SERVER_BEAT_SECONDS)


async def _flush_forever():
    failing_since = None
    while True:
        await asyncio.sleep(settings.OCPP_MESSAGE_LOG_FLUSH_SECONDS)
        batch = messagelog.take_pending()
        if not batch:
            continue
        try:
            unwritten = await KeptConnectionCall(messagelog.write, _log_thread)(batch)
        except Exception:
            logger.exception("message log write failed")
            unwritten = batch
        if unwritten:
            # Kept for the next flush (bounded by messagelog.MAX_PENDING): nothing is lost to
            # a database outage shorter than the buffer.
            messagelog.put_back(unwritten)
            if failing_since is None:
                failing_since = time.monotonic()
                logger.error("message log write failed; %d frames kept for the next try",
                             len(unwritten))
        else:
            if failing_since is not None:
                logger.warning("message log written again after %.1f s; %d frames caught up",
                               time.monotonic() - failing_since, len(batch))
                failing_since = None


def _as_schedule(value):
    if isinstance(value, (int, float)):
        return every(timedelta(seconds=value))
    if isinstance(value, timedelta):
        return every(value)
    return value


async def _run_beat_schedule_forever():
    """What `celery beat` does, for the embedded default: run each due periodic task here."""
    # A worker imports every app's tasks module at start; this process must do the same.
    current_app.loader.import_default_modules()
    entries = {
        name: (entry["task"], _as_schedule(entry["schedule"]), entry.get("args", ()),
               entry.get("kwargs", {}))
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }
    last_run = {name: timezone.now() for name in entries}
    while True:
        wait = 60.0
        for name, (task_name, schedule, args, kwargs) in entries.items():
            due, next_in = schedule.is_due(last_run[name])
            if due:
                last_run[name] = timezone.now()
                try:
                    task = current_app.tasks[task_name]
                    await KeptConnectionCall(task.apply, _background_thread)(args, kwargs)
                except Exception:
                    logger.exception("periodic task %s failed", task_name)
            wait = min(wait, next_in)
        await asyncio.sleep(max(wait, 0.2))
