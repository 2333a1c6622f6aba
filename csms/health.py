"""GET /healthz/: is this server process able to serve stations (database and channel layer)?"""
import asyncio
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse


def _database_round_trip():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _channel_layer_round_trip():
    layer = get_channel_layer()
    # The default prefix matters: channels_redis runs one receive loop per process, reading the
    # Redis list of its "specific." channels; a channel under any other prefix would wait behind
    # that loop's 5 s BRPOP whenever a consumer is connected.
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "health.check"})
    await asyncio.wait_for(layer.receive(channel), timeout=2)


async def healthz(request):
    """200 when both checks pass within 2 s each, else 503 naming what failed. No login: it says
    nothing about the network, and container healthchecks and load balancers call it."""
    checks = {}
    for name, check in (("database", database_sync_to_async(_database_round_trip)),
                        ("channel_layer", _channel_layer_round_trip)):
        started = time.monotonic()
        try:
            await asyncio.wait_for(check(), timeout=2)
        except Exception as error:  # any failure is the answer, not a crash
            checks[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:200]}
        else:
            checks[name] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"healthy": healthy, "checks": checks}, status=200 if healthy else 503)
