"""Background work of one ASGI server process: its liveness beat and the message-log writer.

Started by the first station connection (daphne has no lifespan events). On the embedded
default there is no Celery beat, so this loop also runs CELERY_BEAT_SCHEDULE itself, in-process.
"""
import asyncio
import contextvars
import importlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from asgiref.sync import SyncToAsync
from celery import current_app
from celery.schedules import schedule as every
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from . import messagelog, presence

logger = logging.getLogger(__name__)
_tasks = []
_loop = None
_coalescing = {}
_coalescing_lock = threading.Lock()


def coalesce(function, key, delay=0.25):
    """Call `function(keys)` once, `delay` s from now, for every key gathered meanwhile, in the
    server's database thread. False outside a server process: the caller then acts at once."""
    loop = _loop
    if loop is None or loop.is_closed():
        return False
    with _coalescing_lock:
        keys = _coalescing.setdefault(function, set())
        first = not keys
        keys.add(key)
    if first:
        # A fresh context: the caller's (a sync_to_async thread) would make the later
        # database_sync_to_async call refuse to run ("would deadlock").
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
        await database_sync_to_async(function)(keys)
    except Exception:
        logger.exception("%s failed for %d keys", function.__name__, len(keys))


def ensure_started():
    global _loop
    if _loop is not None:
        return
    # Vendor handler modules load after every app's own handlers, so they may replace one.
    for module in settings.OCPP_HANDLER_MODULES:
        importlib.import_module(module)
    loop = _loop = asyncio.get_running_loop()
    _tasks.append(loop.create_task(_beat_forever()))
    _tasks.append(loop.create_task(_flush_forever()))
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _tasks.append(loop.create_task(_run_beat_schedule_forever()))


# The beat has a thread (and database connection) of its own: queued behind a backlog of
# session work it would be late, and a late beat makes other processes count this one dead.
_beat_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="server-beat")


async def _beat_forever():
    while True:
        try:
            await SyncToAsync(presence.beat, thread_sensitive=False, executor=_beat_thread)()
        except Exception:
            logger.exception("server beat failed")
        await asyncio.sleep(settings.OCPP_SERVER_BEAT_SECONDS)


async def _flush_forever():
    while True:
        await asyncio.sleep(settings.OCPP_MESSAGE_LOG_FLUSH_SECONDS)
        batch = messagelog.take_pending()
        if not batch:
            continue
        try:
            await database_sync_to_async(messagelog.write)(batch)
        except Exception:
            logger.exception("message log write failed (%d frames)", len(batch))


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
                    await database_sync_to_async(task.apply, thread_sensitive=False)(args, kwargs)
                except Exception:
                    logger.exception("periodic task %s failed", task_name)
            wait = min(wait, next_in)
        await asyncio.sleep(max(wait, 0.2))
