"""Benchmark 1: N stations connect, boot and idle on one server process; memory per connection
is the server's RSS delta / N. Usage: benchmarks/README.md."""

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common
from simulator.fleet import Fleet
from simulator.profile import Profile


async def measure(server, stations, ramp_up, deflate):
    profile = Profile(charging_share=0, deflate=deflate, reconnect_min=2, reconnect_max=30, call_timeout=60)
    fleet = Fleet(server.url, stations, ("2.0.1", "1.6"), profile=profile, ramp_up=ramp_up, seed=1, prefix="IDLE-")
    await asyncio.sleep(2)
    before = server.rss_kib()
    started = time.monotonic()
    await fleet.start()
    all_in = await fleet.wait_until(lambda: fleet.stats.accepted >= stations, timeout=ramp_up + 300)
    booted_in = time.monotonic() - started
    # Let the message log flush and the allocator settle before reading memory.
    await asyncio.sleep(5)
    after = server.rss_kib()
    accepted = fleet.stats.accepted
    summary = fleet.stats.summary()
    await fleet.stop(timeout=60)
    return {
        "accepted": accepted,
        "all_in": all_in,
        "booted_in_s": round(booted_in, 1),
        "rss_before_mib": round(before / 1024, 1),
        "rss_after_mib": round(after / 1024, 1),
        "kib_per_connection": round((after - before) / max(accepted, 1), 1),
        "boot_p99_ms": summary["latency"]["p99_ms"],
        "errors": summary["call_errors"],
        "connect_failures": summary.get("connect_failures", 0),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--backend", choices=["embedded", "services"], default="embedded")
    parser.add_argument("--server-args", default="",
                        help="passed to manage.py runcsms, e.g. '--workers 2' (services backend)")
    parser.add_argument("--ramp-up", type=float, default=None, help="seconds (default N/100)")
    parser.add_argument("--no-deflate", action="store_true")
    options = parser.parse_args()
    common.raise_open_files_limit()
    ramp_up = options.ramp_up if options.ramp_up is not None else options.stations / 100
    backend = common.Backend(options.backend)
    # A long heartbeat interval: this measures idle sockets, not traffic.
    server = common.Server(options.server, backend, options.server_args.split(),
                           OCPP_HEARTBEAT_INTERVAL=3600).start()
    try:
        result = asyncio.run(measure(server, options.stations, ramp_up, not options.no_deflate))
    finally:
        server.stop()
        backend.close()
    suffix = "-no-deflate" if options.no_deflate else ""
    common.record(
        f"idle_connections-{options.server}{suffix}",
        [
            f"# Idle connections ({common.now()})",
            f"machine: {common.machine()}; load average at end {common.load_average()}",
            f"server: {server.describe()}; backend: {backend.describe()}",
            f"stations: {options.stations} (half 2.0.1, half 1.6), ramp-up {ramp_up:g} s, "
            f"permessage-deflate {'off' if options.no_deflate else 'offered'}",
            f"accepted: {result['accepted']} (all: {result['all_in']}) in {result['booted_in_s']} s, "
            f"boot p99 {result['boot_p99_ms']} ms",
            f"server RSS: {result['rss_before_mib']} MiB -> {result['rss_after_mib']} MiB = "
            f"{result['kib_per_connection']} KiB per connection",
            f"errors: {result['errors'] or 'none'}, connect failures {result['connect_failures']}",
        ],
    )


if __name__ == "__main__":
    main()
