"""Channel-layer sends from synchronous code: API views, actions and Celery tasks.

Inside the ASGI server, async_to_sync hands the coroutine to the server's own loop. In a Celery
worker it would make a new event loop (and Redis connections) per call, so workers keep one
long-lived loop in a background thread instead.
"""
import asyncio
import logging
import threading
import time

from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer

from csms import metrics

logger = logging.getLogger(__name__)
_worker_loop = None
_worker_loop_lock = threading.Lock()


class ChannelLayerUnavailable(Exception):
    """The channel layer (Redis) could not be reached; the message was not sent."""


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
    """Send to one consumer; False when its channel is full (the caller decides what that means).
    Raises ChannelLayerUnavailable when the layer cannot be reached."""
    layer = get_channel_layer()
    try:
        _run(layer.send, channel_name, message)
    except ChannelFull:
        return False
    except Exception as error:  # redis-py's errors are not OSErrors; any failure means "not sent"
        metrics.channel_layer_error("send")
        raise ChannelLayerUnavailable(f"{type(error).__name__}: {error}") from error
    return True


def group_send(group, message):
    """Best-effort broadcast (dashboard updates): never raises; False when it was not sent.
    A full channel drops it, as group_send does; an unreachable layer is logged, rate-limited."""
    try:
        _run(get_channel_layer().group_send, group, message)
    except Exception as error:
        metrics.channel_layer_error("group_send")
        warn_unavailable("dashboard update not sent", error)
        return False
    return True


class RateLimitedWarning:
    """Logs one line per `interval` seconds per subject, counting the ones it kept quiet."""

    def __init__(self, interval=30.0):
        self.interval = interval
        self.lock = threading.Lock()
        self.state = {}  # subject -> (last logged at, suppressed since)

    def __call__(self, subject, error):
        now = time.monotonic()
        with self.lock:
            last, suppressed = self.state.get(subject, (None, 0))
            if last is not None and now - last < self.interval:
                self.state[subject] = (last, suppressed + 1)
                return
            self.state[subject] = (now, 0)
        more = f" ({suppressed} more since the last report)" if suppressed else ""
        logger.warning("%s: %s: %s%s", subject, type(error).__name__, error, more)


# A Redis outage fails every send at once: one line per subject per half minute is enough.
warn_unavailable = RateLimitedWarning()
