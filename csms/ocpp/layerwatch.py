"""Channel-layer receives that survive a channel-layer outage (Redis restarting) with sockets up.

One outage is logged once per process, probed by one task, and every consumer waits for it.
"""
import asyncio
import logging
import time

from channels.exceptions import ChannelFull

from csms import metrics

logger = logging.getLogger(__name__)

PROBE_CHANNEL = "csms.layer-probe"  # a plain channel nobody reads: its messages just expire
PROBE_FIRST_DELAY = 0.5  # s, doubling up to PROBE_MAX_DELAY while the layer stays down
PROBE_MAX_DELAY = 5.0


class LayerOutage:
    """The process's view of its channel layer: up, or down since `since` (monotonic)."""

    def __init__(self):
        self.since = None
        self.up = None  # asyncio.Event, made on the server's loop at the first outage
        self.probe = None

    @property
    def down(self):
        return self.since is not None

    def failed(self, layer, error):
        if self.since is not None:
            return
        self.since = time.monotonic()
        logger.error("Channel layer unavailable (%s: %s); station sockets stay up, retrying",
                     type(error).__name__, error)
        if self.up is None:
            self.up = asyncio.Event()
        self.up.clear()
        self.probe = asyncio.ensure_future(self._probe(layer))

    async def wait(self):
        if self.since is not None:
            await self.up.wait()

    async def _probe(self, layer):
        delay = PROBE_FIRST_DELAY
        while True:
            await asyncio.sleep(delay)
            try:
                await layer.send(PROBE_CHANNEL, {"type": "layer.probe"})
            except ChannelFull:
                pass  # the layer answered
            except Exception:
                delay = min(delay * 2, PROBE_MAX_DELAY)
                continue
            logger.warning("Channel layer back after %.1f s", time.monotonic() - self.since)
            self.since = None
            self.probe = None
            self.up.set()
            return


outage = LayerOutage()


async def receive(layer, channel_name):
    """The next message for channel_name; channel-layer errors wait out the outage, never raise."""
    while True:
        await outage.wait()
        try:
            return await layer.receive(channel_name)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            metrics.channel_layer_error("receive")
            outage.failed(layer, error)  # the probe waits before its first try: no spinning


async def send(layer, channel_name, message):
    """Send, or log and give up if the channel layer is down (True when sent)."""
    try:
        await layer.send(channel_name, message)
    except Exception as error:
        metrics.channel_layer_error("send")
        logger.warning("Channel-layer send to %s failed (%s: %s)", channel_name,
                       type(error).__name__, error)
        return False
    return True
