"""The embedded default's channel layer: channels' in-memory layer with its expiry sweep run at
most every 10 s, not on every receive (each sweep visits every connection's channel)."""

import time

from channels.layers import InMemoryChannelLayer

SWEEP_INTERVAL = 10.0


class EmbeddedChannelLayer(InMemoryChannelLayer):
    _last_sweep = 0.0

    def _clean_expired(self):
        # Messages expire after `expiry` (60 s); sweeping up to 10 s late changes nothing.
        now = time.monotonic()
        if now - self._last_sweep >= SWEEP_INTERVAL:
            self._last_sweep = now
            super()._clean_expired()
