"""Simulated stations driven from synchronous code (tests, scripts): an event loop in a thread."""

import asyncio
import logging
import threading

from .station import SimulatedStation

logger = logging.getLogger(__name__)


class BackgroundLoop:
    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="simulator", daemon=True)
        self.thread.start()
        self.running = {}

    def run(self, coroutine, timeout=30):
        """Run a coroutine on the loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function, *args):
        """Run a plain function on the loop's thread (station state is not thread-safe)."""

        async def wrapper():
            return function(*args)

        return self.run(wrapper())

    def start(self, station: SimulatedStation):
        """Run the station until `stop(station)`."""

        async def begin():
            stop = asyncio.Event()
            task = asyncio.ensure_future(station.run(stop))
            return stop, task

        self.running[station] = self.run(begin())
        return station

    def stop(self, station, timeout=20):
        stop, task = self.running.pop(station)

        async def end():
            stop.set()
            await asyncio.wait_for(task, timeout)

        self.run(end(), timeout + 5)

    def close(self):
        for station in list(self.running):
            try:
                self.stop(station)
            except Exception:  # noqa: BLE001 (closing: a station that fails to stop is dropped)
                logger.warning("simulated station %s did not stop cleanly", station.identity)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
