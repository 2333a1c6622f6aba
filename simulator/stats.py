"""Counters and latencies of a simulated fleet, for the progress line, summary and benchmarks."""

import collections
import time


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


class Stats:
    MAX_SAMPLES = 2_000_000

    def __init__(self):
        self.started = time.monotonic()
        self.counters = collections.Counter()
        self.sent = collections.Counter()  # CALLs sent, by action
        self.errors = collections.Counter()  # (action, error code) of CALLERRORs received
        self.answered = collections.Counter()  # CSMS calls answered, by action
        self.latencies = []  # (monotonic at answer, action, seconds)
        self.sessions = []  # finished sessions (dicts)
        self.connected = 0
        self.accepted = 0
        self.charging = 0

    def call_done(self, action, seconds):
        if len(self.latencies) < self.MAX_SAMPLES:
            self.latencies.append((time.monotonic(), action, seconds))

    def count(self, name, n=1):
        self.counters[name] += n

    def latency_summary(self, since=None, until=None, actions=None):
        values = sorted(
            seconds
            for at, action, seconds in self.latencies
            if (since is None or at >= since)
            and (until is None or at < until)
            and (actions is None or action in actions)
        )
        return {
            "count": len(values),
            "p50_ms": _ms(percentile(values, 0.50)),
            "p90_ms": _ms(percentile(values, 0.90)),
            "p99_ms": _ms(percentile(values, 0.99)),
            "max_ms": _ms(values[-1] if values else None),
        }

    def messages_between(self, since, until):
        return sum(1 for at, _, _ in self.latencies if since <= at < until)

    def energy_wh(self):
        return sum(session["energy_wh"] for session in self.sessions)

    def summary(self):
        elapsed = time.monotonic() - self.started
        total = sum(self.sent.values())
        return {
            "elapsed_s": round(elapsed, 1),
            "connected": self.connected,
            "accepted": self.accepted,
            "charging": self.charging,
            "calls_sent": total,
            "calls_per_s": round(total / elapsed, 1) if elapsed else 0.0,
            "calls_by_action": dict(self.sent),
            "call_errors": {f"{action}:{code}": n for (action, code), n in self.errors.items()},
            "commands_answered": dict(self.answered),
            "sessions_finished": len(self.sessions),
            "energy_wh": self.energy_wh(),
            "latency": self.latency_summary(),
            **dict(self.counters),
        }


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)
