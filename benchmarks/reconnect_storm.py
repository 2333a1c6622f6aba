"""Benchmark 5: every socket of N booted stations is cut at once; they reconnect and boot again.
Reports the time until all are Accepted again and every error seen on the way."""

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


INITIAL_RATE = 40  # stations per second while the fleet first connects


def error_count(stats):
    return (
        sum(stats.errors.values())
        + stats.counters["call_timeouts"]
        + stats.counters["connect_failures"]
        + stats.counters["session_failures"]
        + sum(n for name, n in stats.counters.items() if name.startswith("refused_http_"))
    )


async def storm(server, stations, reconnect_min, profile_path=None):
    # Stations come back after reconnect_min..2*reconnect_min s (their randomised backoff).
    profile = Profile(charging_share=0, deflate=False, reconnect_min=reconnect_min, reconnect_max=30, call_timeout=60)
    fleet = Fleet(
        server.url,
        stations,
        ("2.0.1", "1.6"),
        profile=profile,
        # The fleet first connects at a pace one process admits (~30-60 new stations/s here);
        # the storm itself is the point, not the first connection.
        ramp_up=stations / INITIAL_RATE,
        seed=9,
        prefix="STORM-",
        boot_on_reconnect=True,
    )
    await fleet.start()
    if not await fleet.wait_until(lambda: fleet.stats.accepted >= stations, stations / INITIAL_RATE + 300):
        raise SystemExit(f"only {fleet.stats.accepted}/{stations} accepted before the storm")
    await asyncio.sleep(5)
    errors_before = error_count(fleet.stats)
    boots_before = fleet.stats.counters["boots_accepted"]
    if profile_path:
        subprocess.Popen(
            [
                str(Path(common.PYTHON).parent / "py-spy"),
                "record",
                "--pid",
                str(server.process.pid),
                "--duration",
                "45",
                "--format",
                "raw",
                "--output",
                profile_path,
                "--nonblocking",
                "--threads",
                "--subprocesses",  # every worker of --workers N
                "--gil",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    cut_at = time.monotonic()
    for station in fleet.stations:
        if station.ws is not None:
            station.ws.transport.abort()
    back = await fleet.wait_until(
        lambda: fleet.stats.counters["boots_accepted"] - boots_before >= stations and fleet.stats.accepted >= stations,
        timeout=300,
    )
    took = time.monotonic() - cut_at
    storm_latency = fleet.stats.latency_summary(since=cut_at, actions={"BootNotification"})
    result = {
        "all_back": back,
        "seconds": round(took, 1),
        "accepted": fleet.stats.accepted,
        "boots": fleet.stats.counters["boots_accepted"] - boots_before,
        "errors": error_count(fleet.stats) - errors_before,
        "error_detail": {
            **{f"{a}:{c}": n for (a, c), n in fleet.stats.errors.items()},
            **{
                k: v
                for k, v in fleet.stats.counters.items()
                if k in ("call_timeouts", "connect_failures", "session_failures") or k.startswith("refused_http_")
            },
        },
        "boot_p50_ms": storm_latency["p50_ms"],
        "boot_p99_ms": storm_latency["p99_ms"],
    }
    await fleet.stop(timeout=60)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=5000)
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--backend", choices=["embedded", "services"], default="embedded")
    parser.add_argument("--server-args", default="",
                        help="passed to manage.py runcsms, e.g. '--workers 2' (services backend)")
    parser.add_argument(
        "--reconnect-min", type=float, default=0.5, help="stations reconnect after MIN..2*MIN seconds (0.5)"
    )
    parser.add_argument("--profile", help="write a py-spy raw profile (GIL holders) of the storm")
    options = parser.parse_args()
    common.raise_open_files_limit()
    backend = common.Backend(options.backend)
    server = common.Server(options.server, backend, options.server_args.split(),
                           OCPP_HEARTBEAT_INTERVAL=3600).start()
    try:
        result = asyncio.run(storm(server, options.stations, options.reconnect_min, options.profile))
    finally:
        server.stop()
        backend.close()
    common.record(
        f"reconnect_storm-{options.server}",
        [
            f"# Reconnect storm ({common.now()})",
            f"machine: {common.machine()}; load average at end {common.load_average()}",
            f"server: {server.describe()}; backend: {backend.describe()}",
            f"{options.stations} stations (half 2.0.1, half 1.6) cut at once, back after "
            f"{options.reconnect_min:g}-{2 * options.reconnect_min:g} s, each boots again",
            f"all Accepted again: {result['all_back']} after {result['seconds']} s "
            f"({result['boots']} boots, {result['accepted']} accepted); BootNotification p50 "
            f"{result['boot_p50_ms']} ms, p99 {result['boot_p99_ms']} ms",
            f"errors during the storm: {result['errors']} {result['error_detail'] or ''}",
        ],
    )


if __name__ == "__main__":
    main()
