"""Benchmarks 2 and 3: the realistic mix at stepped rates (achieved msg/s, latency per step), then
the same client against a bare responder. Usage: benchmarks/README.md."""

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common
from simulator.fleet import Fleet
from simulator.profile import Profile

P99_TARGET_MS = 100


async def run_levels(url, stations, rates, level_seconds, label, pid, settle=20.0,
                     session_seconds=(30, 90)):
    first_interval = stations / rates[0] * 0.85
    profile = Profile(
        charging_share=1.0,
        session_seconds=session_seconds,
        idle_seconds=(2, 8),
        meter_interval=first_interval,
        heartbeat_interval=first_interval * 8,
        max_power_w=22_000,
        reconnect_min=2,
        call_timeout=30,
        deflate=False,
    )
    fleet = Fleet(
        url,
        stations,
        ("2.0.1", "1.6"),
        profile=profile,
        ramp_up=stations / 150,
        seed=5,
        prefix=f"MIX-{label[:1].upper()}-",
    )
    await fleet.start()
    if not await fleet.wait_until(lambda: fleet.stats.accepted >= stations, stations / 150 + 120):
        print(f"only {fleet.stats.accepted} of {stations} stations were accepted", flush=True)
    # The first sessions all start together; let that burst drain before measuring.
    await asyncio.sleep(settle)
    rows = []
    try:
        for rate in rates:
            # ~85 % of the traffic is meter values of running sessions, the rest heartbeats,
            # statuses, authorizations and transaction starts/ends.
            meter_interval = stations / rate * 0.85
            profile.meter_interval = meter_interval
            for station in fleet.stations:
                station.set_heartbeat_interval(meter_interval * 8)
            await asyncio.sleep(max(3.0, meter_interval))
            errors_before = sum(fleet.stats.errors.values()) + fleet.stats.counters["call_timeouts"]
            since, cpu_before = time.monotonic(), common.cpu_seconds(pid)
            await asyncio.sleep(level_seconds)
            until, cpu_after = time.monotonic(), common.cpu_seconds(pid)
            latency = fleet.stats.latency_summary(since=since, until=until)
            errors = sum(fleet.stats.errors.values()) + fleet.stats.counters["call_timeouts"] - errors_before
            actions = sorted({action for at, action, _ in fleet.stats.latencies if since <= at < until})
            row = {
                "offered": rate,
                "achieved": round(latency["count"] / (until - since)),
                "p50_ms": latency["p50_ms"],
                "p99_ms": latency["p99_ms"],
                "errors": errors,
                "server_cpu": f"{100 * (cpu_after - cpu_before) / (until - since):.0f}%",
                "by_action": {
                    action: fleet.stats.latency_summary(since=since, until=until, actions={action})
                    for action in actions
                },
            }
            rows.append(row)
            print(f"  {label}: { {key: value for key, value in row.items() if key != 'by_action'} }",
                  flush=True)
            if latency["p99_ms"] is None or latency["p99_ms"] > 10 * P99_TARGET_MS:
                break  # far past the knee: higher steps only queue up
        mix = dict(fleet.stats.sent)
    finally:
        await fleet.stop(timeout=60)
    return rows, mix


def best(rows):
    good = [
        row["achieved"]
        for row in rows
        if row["p99_ms"] is not None and row["p99_ms"] <= P99_TARGET_MS and row["errors"] == 0
    ]
    return max(good, default=0)


def table(rows):
    lines = [
        "| offered msg/s | achieved msg/s | p50 ms | p99 ms | errors | server CPU |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['offered']} | {r['achieved']} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']} | {r['server_cpu']} |"
        for r in rows
    ]
    return lines


def by_action_table(rows):
    """p50 / p99 ms of each message kind at each step (count in the step in brackets)."""
    actions = sorted({action for row in rows for action in row["by_action"]})
    lines = ["| message | " + " | ".join(f"{row['offered']} msg/s" for row in rows) + " |",
             "|---|" + "---:|" * len(rows)]
    for action in actions:
        cells = []
        for row in rows:
            summary = row["by_action"].get(action)
            cells.append(f"{summary['p50_ms']} / {summary['p99_ms']} ({summary['count']})"
                         if summary else "")
        lines.append(f"| {action} | " + " | ".join(cells) + " |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--rates", default="250,500,1000,1500,2000,3000")
    parser.add_argument("--level-seconds", type=float, default=15)
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--backend", choices=["embedded", "services"], default="services")
    parser.add_argument("--skip-ceiling", action="store_true")
    parser.add_argument("--session-seconds", default="30-90",
                        help="length of each charging session, low-high (shorter: more starts/stops)")
    options = parser.parse_args()
    common.raise_open_files_limit()
    rates = [int(rate) for rate in options.rates.split(",")]
    session_seconds = tuple(float(value) for value in options.session_seconds.split("-"))
    backend = common.Backend(options.backend)
    server = common.Server(options.server, backend).start()
    try:
        csms_rows, mix = asyncio.run(
            run_levels(server.url, options.stations, rates, options.level_seconds, "csms", server.process.pid,
                       session_seconds=session_seconds)
        )
    finally:
        server.stop()
        backend.close()
    ceiling_rows = []
    if not options.skip_ceiling:
        port = common.free_port()
        responder = subprocess.Popen(
            [common.PYTHON, "benchmarks/bare_responder.py", "--port", str(port)],
            cwd=common.ROOT,
            preexec_fn=common.raise_open_files_limit,
        )
        try:
            common.wait_for_port(port, responder)
            ceiling_rows, _ = asyncio.run(
                run_levels(
                    f"ws://127.0.0.1:{port}/ocpp", options.stations, rates, options.level_seconds, "bare", responder.pid,
                    session_seconds=session_seconds,
                )
            )
        finally:
            responder.terminate()
            responder.wait(10)
    csms_best, ceiling_best = best(csms_rows), best(ceiling_rows)
    lines = [
        f"# Sustained mixed load ({common.now()})",
        f"machine: {common.machine()}; load average at end {common.load_average()}",
        f"server: {server.describe()}; backend: {backend.describe()}; every message persisted (message log batched)",
        f"client: the simulator, 1 process, {options.stations} stations (half 2.0.1, half 1.6), "
        f"{options.level_seconds:g} s per step, every station charging, sessions of "
        f"{options.session_seconds} s",
        "mix sent: " + ", ".join(f"{action} {n}" for action, n in sorted(mix.items())),
        "",
        "CSMS:",
        *table(csms_rows),
        "",
        "CSMS, p50 / p99 ms by message (messages answered in the step):",
        *by_action_table(csms_rows),
    ]
    if ceiling_rows:
        lines += ["", "bare responder (no Django), same client:", *table(ceiling_rows)]
    lines += [
        "",
        f"highest rate with p99 <= {P99_TARGET_MS} ms and no errors: CSMS {csms_best} msg/s"
        + (f", bare responder {ceiling_best} msg/s, ratio {csms_best / ceiling_best:.0%}" if ceiling_best else ""),
    ]
    common.record(f"mixed_load-{options.server}", lines)


if __name__ == "__main__":
    main()
