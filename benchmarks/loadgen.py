"""A lean load generator for the ingest benchmark: several processes, each an asyncio loop holding its
share of stations over a minimal WebSocket client, so the client can offer far more than the server
takes. The parent sets the rate, marks and collects steps, and merges the workers' histograms.

Why: the full station simulator (`simulator/`) in one process tops out near 2,000 msg/s on two
cores, so a fast server's ceiling could not be measured with it. Each worker here does only what
the measured mix needs (the realistic messages, one CALL outstanding per station) and frames
WebSocket messages itself (`lean_websocket.py`).

Alone: `loadgen.py --url ws://127.0.0.1:PORT/ocpp --stations 3000 --rates 2000,4000 --step-seconds 10`.
"""

import argparse
import asyncio
import math
import multiprocessing
import os
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common
from benchmarks.loadgen_stations import BUCKET_STEP, Station, log_bucket, station_rng

# Share of the messages that are meter values at a given rate; heartbeats every 8 meter intervals
# and the session messages make up the rest (the same rule as mixed_load.py).
METER_SHARE = 0.85
HEARTBEATS_PER_METER_INTERVAL = 8


class StepStats:
    """What a worker's stations did since the last mark."""

    def __init__(self):
        self.sent = Counter()
        self.latencies = {}  # kind -> Counter of log buckets
        self.call_errors = Counter()
        self.timeouts = Counter()
        self.drops = 0
        self.connect_failures = 0
        self.server_calls = 0

    def answered(self, kind, seconds):
        histogram = self.latencies.get(kind)
        if histogram is None:
            histogram = self.latencies[kind] = Counter()
        histogram[log_bucket(seconds)] += 1

    def as_dict(self):
        return {
            "sent": dict(self.sent),
            "latencies": {kind: dict(histogram) for kind, histogram in self.latencies.items()},
            "call_errors": dict(self.call_errors),
            "timeouts": dict(self.timeouts),
            "drops": self.drops,
            "connect_failures": self.connect_failures,
            "server_calls": self.server_calls,
        }


class Worker:
    """One process's stations and the loop that runs them; commands come over a pipe."""

    def __init__(self, connection, options, indexes):
        url = urlsplit(options["url"])
        self.host, self.port, self.path = url.hostname, url.port or 80, url.path.rstrip("/")
        self.connection = connection
        self.session_seconds = options["session_seconds"]
        self.idle_seconds = options["idle_seconds"]
        self.meter_interval = options["meter_interval"]
        self.heartbeat_interval = self.meter_interval * HEARTBEATS_PER_METER_INTERVAL
        self.ramp_rate = options["ramp_rate"]
        self.stations = [
            Station(self, f"{options['prefix']}{index:06d}", "2.0.1" if index % 2 == 0 else "1.6",
                    station_rng(options["seed"], index))
            for index in indexes
        ]
        self.stats = StepStats()
        self.stopping = False
        self.done = None

    async def run(self):
        loop = asyncio.get_running_loop()
        self.done = loop.create_future()
        loop.add_reader(self.connection.fileno(), self.on_command)
        tasks = []
        sweeper = asyncio.ensure_future(self.expire_calls())
        # Stations start on a schedule (those due every 50 ms), not one sleep each: on a busy
        # loop each sleep lasts a whole loop turn, which would stretch the ramp many times over.
        ramp_started = loop.time()
        while len(tasks) < len(self.stations) and not self.done.done():
            due = min(len(self.stations), int((loop.time() - ramp_started) * self.ramp_rate) + 1)
            tasks += [asyncio.ensure_future(station.run()) for station in self.stations[len(tasks):due]]
            await asyncio.sleep(0.05)
        await self.done
        sweeper.cancel()
        for station in self.stations:
            if station.socket is not None:
                station.socket.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def expire_calls(self):
        while True:
            await asyncio.sleep(1.0)
            now = time.perf_counter()
            for station in self.stations:
                station.expire(now)

    def on_command(self, *_):
        try:
            command, *arguments = self.connection.recv()
        except EOFError:  # the parent has gone: stop rather than load a server for no one
            command, arguments = "stop", []
            asyncio.get_running_loop().remove_reader(self.connection.fileno())
        if command == "interval":
            self.meter_interval = arguments[0]
            self.heartbeat_interval = arguments[0] * HEARTBEATS_PER_METER_INTERVAL
            # Beats keep their phase but fall due within the new interval, not all at once.
            now = time.monotonic()
            for station in self.stations:
                if station.next_heartbeat > now + self.heartbeat_interval:
                    station.next_heartbeat = now + station.rng.uniform(0, self.heartbeat_interval)
        elif command == "mark":
            self.stats = StepStats()
        elif command == "collect":
            self.connection.send(self.stats.as_dict())
        elif command == "accepted":
            self.connection.send(sum(station.accepted for station in self.stations))
        elif command == "stop":
            self.stopping = True
            if not self.done.done():
                self.done.set_result(None)


def worker_main(connection, options, indexes):
    common.raise_open_files_limit()
    try:
        import uvloop  # optional: a faster loop when installed

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(Worker(connection, options, indexes).run())


def meter_interval_for(stations, rate):
    return stations / rate * METER_SHARE


class LoadGenerator:
    """The parent side: start the workers, set the rate, and read merged step figures."""

    def __init__(self, url, stations, processes=2, session_seconds=(30, 90), idle_seconds=(2, 8),
                 first_rate=100, prefix="LG-", ramp_rate=150, seed=5):
        self.stations = stations
        self.processes = processes
        self.options = {
            "url": url, "session_seconds": session_seconds, "idle_seconds": idle_seconds,
            "meter_interval": meter_interval_for(stations, first_rate), "prefix": prefix,
            "ramp_rate": ramp_rate / processes, "seed": seed,
        }
        self.meter_interval = self.options["meter_interval"]
        self.workers = []

    def start(self):
        context = multiprocessing.get_context("spawn")
        for number in range(self.processes):
            parent_end, child_end = context.Pipe()
            indexes = list(range(number, self.stations, self.processes))
            process = context.Process(target=worker_main, args=(child_end, self.options, indexes), daemon=True)
            process.start()
            self.workers.append((process, parent_end))
        return self

    def broadcast(self, *command):
        for _, connection in self.workers:
            connection.send(command)

    def gather(self, *command):
        self.broadcast(*command)
        return [connection.recv() for _, connection in self.workers]

    def wait_accepted(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            accepted = sum(self.gather("accepted"))
            if accepted >= self.stations or time.monotonic() > deadline:
                return accepted
            time.sleep(1.0)

    def set_rate(self, rate):
        self.meter_interval = meter_interval_for(self.stations, rate)
        self.broadcast("interval", self.meter_interval)
        return self.meter_interval

    def mark(self):
        self.broadcast("mark")

    def collect(self):
        return merge(self.gather("collect"))

    def pids(self):
        return [process.pid for process, _ in self.workers]

    def runqueue_wait_by_pid(self):
        return {pid: common.runqueue_wait_seconds(pid) for pid in self.pids()}

    def cpu_by_pid(self):
        return {pid: common.cpu_seconds(pid) for pid in self.pids()}

    def stop(self):
        for process, connection in self.workers:
            if process.is_alive():
                connection.send(("stop",))
        for process, _ in self.workers:
            process.join(30)
            if process.is_alive():
                process.kill()
        self.workers = []


def merge(parts):
    merged = {"sent": Counter(), "latencies": {}, "call_errors": Counter(), "timeouts": Counter(),
              "drops": 0, "connect_failures": 0, "server_calls": 0}
    for part in parts:
        for key in ("sent", "call_errors", "timeouts"):
            merged[key].update(part[key])
        for key in ("drops", "connect_failures", "server_calls"):
            merged[key] += part[key]
        for kind, histogram in part["latencies"].items():
            merged["latencies"].setdefault(kind, Counter()).update(histogram)
    return merged


def percentiles(histogram, wanted=(0.5, 0.99)):
    """(count, {q: ms}) of a bucket histogram; a bucket stands for its geometric middle."""
    count = sum(histogram.values())
    if not count:
        return 0, {q: None for q in wanted}
    values, seen, buckets = {}, 0, sorted(histogram.items())
    targets = sorted(wanted)
    position = 0
    for bucket, n in buckets:
        seen += n
        while position < len(targets) and seen >= targets[position] * count:
            values[targets[position]] = round(math.exp((bucket + 0.5) * BUCKET_STEP) / 1000, 1)
            position += 1
    for q in targets[position:]:
        values[q] = round(math.exp((buckets[-1][0] + 0.5) * BUCKET_STEP) / 1000, 1)
    return count, values


def summarize(merged, seconds):
    overall = Counter()
    by_kind = {}
    for kind, histogram in merged["latencies"].items():
        overall.update(histogram)
        count, values = percentiles(histogram)
        by_kind[kind] = {"count": count, "p50_ms": values[0.5], "p99_ms": values[0.99]}
    count, values = percentiles(overall)
    errors = sum(merged["call_errors"].values()) + sum(merged["timeouts"].values()) + merged["drops"]
    return {
        "sent_rate": round(sum(merged["sent"].values()) / seconds), "achieved": round(count / seconds), "answered": count, "p50_ms": values[0.5], "p99_ms": values[0.99],
        "errors": errors + merged["connect_failures"], "call_errors": dict(merged["call_errors"]),
        "timeouts": dict(merged["timeouts"]), "drops": merged["drops"],
        "connect_failures": merged["connect_failures"], "sent": dict(merged["sent"]), "by_kind": by_kind,
        "server_calls": merged["server_calls"],
    }


def cpu_delta(before, after):
    """CPU seconds spent between two {pid: seconds} readings; a process that appeared in between
    counts from 0 (one that exited in between is lost)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def run_steps(generator, rates, step_seconds, cpu_probes=None, label="", stop_p99_ms=1000):
    """One row per rate: achieved msg/s, latency, errors, and the CPU of each probe (name ->
    callable returning {pid: CPU seconds so far}) in % of a core and in ms per answered message."""
    cpu_probes = dict(cpu_probes or {})
    cpu_probes["load generator"] = generator.cpu_by_pid
    rows, previous_interval = [], generator.meter_interval
    for rate in rates:
        interval = generator.set_rate(rate)
        # Stations asleep on the previous interval wake once more before the new rhythm holds.
        time.sleep(max(3.0, previous_interval))
        previous_interval = interval
        cpu_before = {name: probe() for name, probe in cpu_probes.items()}
        waited_before = generator.runqueue_wait_by_pid()
        generator.mark()
        started = time.monotonic()
        time.sleep(step_seconds)
        merged = generator.collect()
        elapsed = time.monotonic() - started
        spent = {name: cpu_delta(cpu_before[name], probe()) for name, probe in cpu_probes.items()}
        waited = cpu_delta(waited_before, generator.runqueue_wait_by_pid())
        row = {"offered": rate, **summarize(merged, elapsed), "load_average": common.load_average()}
        row["cpu_percent"] = {name: round(100 * seconds / elapsed) for name, seconds in spent.items()}
        row["cpu_ms_per_message"] = {
            name: round(1000 * seconds / row["answered"], 3) if row["answered"] else None
            for name, seconds in spent.items()
        }
        # Of each generator process's time in the step, the share it was ready to run but had no CPU.
        row["generator_waited_percent"] = round(100 * waited / (elapsed * len(generator.pids())))
        rows.append(row)
        print(f"  {label}{rate} offered: {row['sent_rate']} sent/s, {row['achieved']} answered/s, p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, "
              f"errors {row['errors']}, CPU % {row['cpu_percent']}, generator waited for a CPU "
              f"{row['generator_waited_percent']} %, CPU ms/msg {row['cpu_ms_per_message']}, "
              f"load {row['load_average']}", flush=True)
        if stop_p99_ms is not None and (row["p99_ms"] is None or row["p99_ms"] > stop_p99_ms):
            break  # far past the knee: higher steps only queue up
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--stations", type=int, default=3000)
    parser.add_argument("--rates", default="1000,2000,4000")
    parser.add_argument("--step-seconds", type=float, default=10)
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--session-seconds", default="30-90")
    parser.add_argument("--ramp-rate", type=float, default=300, help="new connections per second, all workers")
    parser.add_argument("--server-pid", type=int, help="also report this process's (and its children's) CPU")
    options = parser.parse_args()
    rates = [int(rate) for rate in options.rates.split(",")]
    generator = LoadGenerator(options.url, options.stations, options.load_processes,
                              tuple(float(v) for v in options.session_seconds.split("-")), first_rate=rates[0],
                              ramp_rate=options.ramp_rate, prefix=f"LG-{os.getpid()}-").start()
    try:
        accepted = generator.wait_accepted(options.stations / options.ramp_rate + 60)
        print(f"{accepted} of {options.stations} stations accepted", flush=True)
        probes = {"server": lambda: common.tree_cpu_seconds(options.server_pid)} if options.server_pid else {}
        run_steps(generator, rates, options.step_seconds, probes, stop_p99_ms=None)
    finally:
        generator.stop()


if __name__ == "__main__":
    main()
