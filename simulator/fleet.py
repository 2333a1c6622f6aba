"""A fleet of simulated stations: ramp-up, a bounded run, a progress line and the summary."""

import asyncio
import contextlib
import random
import sys
import time

from .profile import Profile
from .station import SimulatedStation
from .stats import Stats

VERSIONS = {"2.0.1": ("2.0.1",), "1.6": ("1.6",), "mix": ("2.0.1", "1.6")}


class Fleet:
    def __init__(
        self,
        url,
        count,
        versions=("2.0.1",),
        profile=None,
        ramp_up=0.0,
        seed=None,
        prefix="SIM-",
        password=None,
        boot_on_reconnect=False,
        first_number=1,
    ):
        self.url = url
        self.profile = profile or Profile()
        self.stats = Stats()
        self.ramp_up = ramp_up
        self.stop_event = asyncio.Event()
        seed = random.randrange(2**32) if seed is None else seed
        self.seed = seed
        chooser = random.Random(seed)
        charging = set(chooser.sample(range(count), round(count * self.profile.charging_share)))
        self.stations = [
            SimulatedStation(
                url,
                f"{prefix}{first_number + index:05d}",
                versions[index % len(versions)],
                profile=self.profile,
                stats=self.stats,
                rng=random.Random(f"{seed}-{index}"),
                password=password,
                charges=index in charging,
                boot_on_reconnect=boot_on_reconnect,
            )
            for index in range(count)
        ]
        self.tasks = []

    async def start(self):
        """Start every station, spread evenly over the ramp-up."""
        self.stats.started = time.monotonic()
        count = len(self.stations)
        step = self.ramp_up / count if count and self.ramp_up else 0.0
        for index, station in enumerate(self.stations):
            self.tasks.append(asyncio.create_task(self._start_later(station, index * step)))

    async def _start_later(self, station, delay):
        if delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), delay)
        if not self.stop_event.is_set():
            await station.run(self.stop_event)

    async def stop(self, timeout=30.0):
        """Drivers end their sessions, stations close; stragglers are cancelled after `timeout`."""
        self.stop_event.set()
        if not self.tasks:
            return
        done, pending = await asyncio.wait(self.tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                self.stats.count("station_crashes")

    async def wait_until(self, condition, timeout):
        """Poll `condition()` until true or `timeout` s pass; returns whether it held."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            await asyncio.sleep(0.05)
        return condition()

    async def run(self, duration, progress_every=2.0, out=sys.stdout):
        """Run for `duration` seconds (bounded), printing a progress line, then stop."""
        await self.start()
        progress = Progress(self, out)
        deadline = time.monotonic() + duration
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(max(0.05, min(progress_every, deadline - time.monotonic())))
                if progress_every:
                    progress.print()
        finally:
            await self.stop()
        if progress_every:
            progress.print()
        return self.stats.summary()


class Progress:
    def __init__(self, fleet, out):
        self.fleet = fleet
        self.out = out
        self.last_at = time.monotonic()
        self.last_sent = 0

    def print(self):
        stats = self.fleet.stats
        now = time.monotonic()
        sent = sum(stats.sent.values())
        rate = (sent - self.last_sent) / max(now - self.last_at, 1e-6)
        self.last_at, self.last_sent = now, sent
        latency = stats.latency_summary(since=now - 10)
        errors = sum(stats.errors.values()) + stats.counters["call_timeouts"]
        p99 = "-" if latency["p99_ms"] is None else f"{latency['p99_ms']:.0f} ms"
        self.out.write(
            f"[{now - stats.started:6.1f}s] connected {stats.connected}/{len(self.fleet.stations)}"
            f" accepted {stats.accepted} charging {stats.charging}"
            f" | calls {sent} ({rate:.0f}/s) p99 {p99}"
            f" | commands {sum(stats.answered.values())} errors {errors}"
            f" reconnects {stats.counters['disconnects'] + stats.counters['reboots']}"
            f" sessions {len(stats.sessions)} ({stats.energy_wh() / 1000:.1f} kWh)\n"
        )
        self.out.flush()


def format_summary(summary):
    latency = summary["latency"]
    lines = [
        (
            f"ran {summary['elapsed_s']} s: {summary['calls_sent']} calls "
            f"({summary['calls_per_s']}/s), latency p50 {latency['p50_ms']} ms, "
            f"p99 {latency['p99_ms']} ms, max {latency['max_ms']} ms"
        ),
        (
            f"boots accepted {summary.get('boots_accepted', 0)}, reconnects "
            f"{summary.get('disconnects', 0)}, resets {summary.get('reboots', 0)}, "
            f"connect failures {summary.get('connect_failures', 0)}, "
            f"call timeouts {summary.get('call_timeouts', 0)}"
        ),
        (
            f"sessions finished {summary['sessions_finished']}, energy "
            f"{summary['energy_wh'] / 1000:.3f} kWh, aborted {summary.get('sessions_aborted', 0)}"
        ),
        "calls by action: " + ", ".join(f"{action} {n}" for action, n in sorted(summary["calls_by_action"].items())),
        "commands answered: "
        + (", ".join(f"{action} {n}" for action, n in sorted(summary["commands_answered"].items())) or "none"),
        "errors from the CSMS: "
        + (", ".join(f"{key} {n}" for key, n in sorted(summary["call_errors"].items())) or "none"),
    ]
    refused = {k: v for k, v in summary.items() if k.startswith("refused_http_")}
    if refused:
        lines.append("upgrades refused: " + ", ".join(f"{k[13:]} x{v}" for k, v in refused.items()))
    return "\n".join(lines)
