"""The ingest benchmark: the realistic mix from the lean multi-process load generator against the
CSMS at stepped rates, then against the bare responder with the same generator and steps; CPU per
message of the server side (server processes + the benchmark database's PostgreSQL backends)."""

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common
from benchmarks.loadgen import LoadGenerator, run_steps

P99_TARGET_MS = 100


def postgres_backends_cpu(database):
    """{pid: CPU seconds} of the PostgreSQL backends connected to `database` now."""
    import psycopg

    with psycopg.connect(common.POSTGRES_ADMIN_URL, autocommit=True) as connection:
        pids = [row[0] for row in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]
    seconds = {}
    for pid in pids:
        try:
            seconds[pid] = common.cpu_seconds(pid)
        except OSError:  # ended since the query
            pass
    return seconds


def run_fleet(url, options, rates, step_seconds, probes, label, ramp_rate):
    generator = LoadGenerator(
        url, options.stations if label == "csms" else options.ceiling_stations, options.load_processes,
        session_seconds=options.session_range, first_rate=rates[0], prefix=f"ING-{label[0].upper()}-",
        ramp_rate=ramp_rate,
    ).start()
    try:
        accepted = generator.wait_accepted(generator.stations / ramp_rate + 120)
        print(f"{label}: {accepted} of {generator.stations} stations accepted", flush=True)
        # The first sessions all start together; let that burst drain before measuring.
        time.sleep(options.settle)
        stop_p99_ms = None if options.all_steps else 10 * P99_TARGET_MS
        return run_steps(generator, rates, step_seconds, probes, label=f"{label}: ", stop_p99_ms=stop_p99_ms), accepted
    finally:
        generator.stop()


def best(rows):
    good = [row["achieved"] for row in rows
            if row["p99_ms"] is not None and row["p99_ms"] <= P99_TARGET_MS and row["errors"] == 0]
    return max(good, default=0)


def server_ms(row):
    """CPU ms per message of the server side: its processes plus its database backends."""
    values = [row["cpu_ms_per_message"].get(name) for name in ("server", "postgres")]
    return round(sum(value for value in values if value is not None), 3) if values[0] is not None else None


def table(rows, with_postgres):
    postgres = " PostgreSQL CPU |" if with_postgres else ""
    lines = [
        (f"| offered msg/s | sent msg/s | achieved msg/s | p50 ms | p99 ms | errors | server CPU |{postgres} server-side CPU ms/msg "
        "| generator CPU | generator waiting for a CPU | load average |"),
        "|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if with_postgres else "") + "---:|---:|---:|---|",
    ]
    for row in rows:
        cpu = row["cpu_percent"]
        postgres_cell = f" {cpu.get('postgres', 0)} % |" if with_postgres else ""
        lines.append(
            f"| {row['offered']} | {row['sent_rate']} | {row['achieved']} | {row['p50_ms']} | {row['p99_ms']} | {row['errors']} "
            f"| {cpu['server']} % |{postgres_cell} {server_ms(row)} | {cpu['load generator']} % "
            f"({row['cpu_ms_per_message']['load generator']} ms/msg) | {row['generator_waited_percent']} % "
            f"| {row['load_average']} |"
        )
    return lines


def by_kind_table(rows):
    """p50 / p99 ms of each message kind at each step (answers in the step in brackets)."""
    kinds = sorted({kind for row in rows for kind in row["by_kind"]})
    lines = ["| message | " + " | ".join(f"{row['offered']} msg/s" for row in rows) + " |",
             "|---|" + "---:|" * len(rows)]
    for kind in kinds:
        cells = []
        for row in rows:
            summary = row["by_kind"].get(kind)
            cells.append(f"{summary['p50_ms']} / {summary['p99_ms']} ({summary['count']})" if summary else "")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return lines


def mix(rows):
    counts = {}
    for row in rows:
        for kind, summary in row["by_kind"].items():
            counts[kind] = counts.get(kind, 0) + summary["count"]
    total = sum(counts.values()) or 1
    return ", ".join(f"{kind} {100 * n / total:.0f} %" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def errors_detail(rows):
    calls = sum(row["server_calls"] for row in rows)
    lines = [f"  calls from the server during the steps (answered NotImplemented, not measured): {calls}"] if calls else []
    for row in rows:
        if row["errors"]:
            lines.append(f"  {row['offered']} msg/s: CALLERROR {row['call_errors']}, timeouts {row['timeouts']}, "
                         f"drops {row['drops']}, connect failures {row['connect_failures']}")
    return lines


def ratio_lines(csms_rows, ceiling_rows):
    lines = ["CPU per message, CSMS (server + PostgreSQL) / bare responder, at the same offered rate:"]
    ceiling_by_rate = {row["offered"]: row for row in ceiling_rows}
    for row in csms_rows:
        bare = ceiling_by_rate.get(row["offered"])
        csms_ms = server_ms(row)
        bare_ms = bare["cpu_ms_per_message"].get("server") if bare else None
        if csms_ms and bare_ms:
            lines.append(f"  {row['offered']} msg/s: {csms_ms:.3f} / {bare_ms:.3f} ms = {csms_ms / bare_ms:.1f}x")
    return lines


def start_responder(processes):
    port = common.free_port()
    responder = subprocess.Popen(
        [common.PYTHON, "benchmarks/bare_responder.py", "--port", str(port), "--processes", str(processes)],
        cwd=common.ROOT,
    )
    common.wait_for_port(port, responder)
    return responder, port


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--rates", default="500,1000,2000,3000,4000")
    parser.add_argument("--step-seconds", type=float, default=30)
    parser.add_argument("--sustain", type=float, default=None,
                        help="run only the first rate, for this many seconds (e.g. 300)")
    parser.add_argument("--backend", choices=["embedded", "services"], default="services")
    parser.add_argument("--server-args", default="", help="passed to manage.py runcsms, e.g. '--workers 2'")
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--session-seconds", default="30-90",
                        help="length of each charging session, low-high (900-1800: long sessions)")
    parser.add_argument("--settle", type=float, default=20, help="seconds after the fleet is up, before step 1")
    parser.add_argument("--ramp-rate", type=float, default=150, help="new connections per second to the CSMS")
    parser.add_argument("--skip-ceiling", action="store_true")
    parser.add_argument("--all-steps", action="store_true",
                        help="run every step (by default the steps stop once p99 passes 1 s)")
    parser.add_argument("--ceiling-stations", type=int, default=None, help="fleet for the bare responder")
    parser.add_argument("--ceiling-rates", default=None, help="steps for the bare responder (default: --rates)")
    parser.add_argument("--responder-processes", type=int, default=2)
    parser.add_argument("--name", default=None, help="result file name (default ingest-<backend>)")
    options = parser.parse_args()
    common.raise_open_files_limit()
    rates = [int(rate) for rate in options.rates.split(",")]
    step_seconds = options.step_seconds
    if options.sustain:
        rates, step_seconds = rates[:1], options.sustain
    ceiling_rates = [int(rate) for rate in options.ceiling_rates.split(",")] if options.ceiling_rates else rates
    options.ceiling_stations = options.ceiling_stations or options.stations
    options.session_range = tuple(float(value) for value in options.session_seconds.split("-"))
    started_at = common.now()

    backend = common.Backend(options.backend)
    server = common.Server("daphne", backend, extra_args=shlex.split(options.server_args)).start()
    probes = {"server": lambda: common.tree_cpu_seconds(server.process.pid)}
    if backend.database:
        database = backend.database
        probes["postgres"] = lambda: postgres_backends_cpu(database)
    try:
        csms_rows, csms_accepted = run_fleet(server.url, options, rates, step_seconds, probes, "csms",
                                             options.ramp_rate)
    finally:
        server.stop()
        backend.close()

    ceiling_rows = []
    if not options.skip_ceiling:
        responder, port = start_responder(options.responder_processes)
        try:
            ceiling_rows, _ = run_fleet(f"ws://127.0.0.1:{port}/ocpp", options, ceiling_rates, step_seconds,
                                        {"server": lambda: common.tree_cpu_seconds(responder.pid)}, "bare",
                                        max(options.ramp_rate, 1000))
        finally:
            responder.terminate()
            responder.wait(10)

    csms_best, ceiling_best = best(csms_rows), best(ceiling_rows)
    with_postgres = backend.kind == "services"
    lines = [
        f"# Ingest: realistic mix, lean load generator ({started_at} to {common.now()})",
        f"machine: {common.machine()}; load average at end {common.load_average()} (other work shares the box)",
        f"server: manage.py runcsms {options.server_args}".rstrip() + f"; backend: {backend.describe()}",
        (f"client: benchmarks/loadgen.py, {options.load_processes} processes, {options.stations} stations "
        f"({csms_accepted} accepted; half 2.0.1, half 1.6), every station charging with its own token, sessions "
        f"of {options.session_seconds} s, pauses of 2-8 s; {step_seconds:g} s per step"),
        "server-side CPU ms/msg: the runcsms process and its children"
        + (" plus the PostgreSQL backends of the benchmark database" if with_postgres else "")
        + ", per answered message",
        "mix answered by the CSMS in the steps: " + mix(csms_rows),
        "",
        "CSMS:",
        *table(csms_rows, with_postgres),
        *errors_detail(csms_rows),
        "",
        "CSMS, p50 / p99 ms by message (answers in the step):",
        *by_kind_table(csms_rows),
    ]
    if ceiling_rows:
        lines += [
            "",
            (f"bare responder ({options.responder_processes} processes, SO_REUSEPORT, lean framing), "
            f"{options.ceiling_stations} stations, same generator:"),
            *table(ceiling_rows, False),
            *errors_detail(ceiling_rows),
            "",
            *ratio_lines(csms_rows, ceiling_rows),
        ]
    lines += [
        "",
        f"highest step with p99 <= {P99_TARGET_MS} ms and no errors: CSMS {csms_best} msg/s"
        + (f", bare responder {ceiling_best} msg/s; CSMS best / bare ceiling {csms_best / ceiling_best:.0%}"
           if ceiling_best else ""),
    ]
    common.record(options.name or f"ingest-{options.backend}", lines)


if __name__ == "__main__":
    main()
