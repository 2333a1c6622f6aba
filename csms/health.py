"""GET /healthz/: can this server process serve stations (database, channel layer, its own beat)?"""
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from csms.ocpp import runtime

CHECK_TIMEOUT = 2.0
# Its own thread: a database check stuck in a connect must not queue behind (or hold up) others.
_database_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="healthz-db")
_database_check_since = None  # monotonic start of the database check still running, if any


def _database_round_trip():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # back to the pool; the next check takes one as a request would


async def _database_check():
    global _database_check_since
    if _database_check_since is not None:
        # One check at a time: while the database hangs, checks would pile up on the thread.
        waited = time.monotonic() - _database_check_since
        raise TimeoutError(f"the previous check has waited {waited:.1f} s for the database")
    _database_check_since = time.monotonic()
    future = asyncio.ensure_future(
        SyncToAsync(_database_round_trip, thread_sensitive=False, executor=_database_thread)())

    def done(finished):
        global _database_check_since
        _database_check_since = None
        if not finished.cancelled():
            finished.exception()  # a late failure was reported as a timeout already

    future.add_done_callback(done)
    try:
        await asyncio.wait_for(asyncio.shield(future), timeout=CHECK_TIMEOUT)
    except asyncio.TimeoutError:
        raise TimeoutError(f"no answer within {CHECK_TIMEOUT:g} s") from None


async def _channel_layer_round_trip():
    layer = get_channel_layer()
    # The default prefix matters: channels_redis runs one receive loop per process, reading the
    # Redis list of its "specific." channels; a channel under any other prefix would wait behind
    # that loop's 5 s BRPOP whenever a consumer is connected.
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "health.check"})
    await asyncio.wait_for(layer.receive(channel), timeout=CHECK_TIMEOUT)


def _beat_check():
    """Three missed beats are reported before the sweep counts this process dead (and drops its
    stations) after OCPP_SERVER_DEAD_SECONDS without one."""
    age = runtime.beat_age()
    if age is None:
        return {"ok": True, "detail": "not beating: no station has connected to this process"}
    limit = 3 * settings.OCPP_SERVER_BEAT_SECONDS
    if age > limit:
        return {"ok": False, "age_s": round(age, 1),
                "error": f"no successful beat for {age:.1f} s (over 3 intervals, {limit:g} s): "
                         f"other processes count this one dead after "
                         f"{settings.OCPP_SERVER_DEAD_SECONDS:g} s"}
    return {"ok": True, "age_s": round(age, 1)}


async def healthz(request):
    """200 when every check passes (each within 2 s), else 503 naming what failed. No login: it
    says nothing about the network, and container healthchecks and load balancers call it."""
    checks = {}
    for name, check in (("database", _database_check),
                        ("channel_layer", _channel_layer_round_trip)):
        started = time.monotonic()
        try:
            await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT + 0.5)
        except Exception as error:  # any failure is the answer, not a crash
            checks[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:200]}
        else:
            checks[name] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    checks["beat"] = _beat_check()
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"healthy": healthy, "checks": checks}, status=200 if healthy else 503)
