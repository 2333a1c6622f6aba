"""Channel-layer sends from synchronous code: API views, actions and Celery tasks.

Inside the ASGI server, async_to_sync hands the coroutine to the server's own loop. In a Celery
worker it would make a new event loop (and Redis connections) per call, so workers keep one
long-lived loop in a background thread instead.
"""
import asyncio
import threading

from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer

_worker_loop = None
_worker_loop_lock = threading.Lock()


def use_persistent_loop():
    """Called once per worker process: route sends through one loop that lives as long as it."""
    global _worker_loop
    with _worker_loop_lock:
        if _worker_loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="channel-layer-loop", daemon=True).start()
            _worker_loop = loop


def _run(coroutine_function, *args):
    if _worker_loop is not None:
        future = asyncio.run_coroutine_threadsafe(coroutine_function(*args), _worker_loop)
        return future.result(timeout=10)
    return async_to_sync(coroutine_function)(*args)


def send(channel_name, message):
    """Send to one consumer; False when its channel is full (the caller decides what that means)."""
    layer = get_channel_layer()
    try:
        _run(layer.send, channel_name, message)
    except ChannelFull:
        return False
    return True


def group_send(group, message):
    """Best-effort broadcast (dashboard updates); a full channel drops it, as group_send does."""
    _run(get_channel_layer().group_send, group, message)
