"""Benchmark 4: commands out (REST -> the API process nudges the holder over the channel layer ->
station -> outcome recorded); latency is each command row's finished_at - created_at.
Usage: benchmarks/README.md."""

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common
from simulator.fleet import Fleet
from simulator.profile import Profile
from simulator.stats import percentile

MAKE_TOKEN = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
user = User.objects.create_superuser("bench", "bench@example.test", "bench-password-1")
print(Token.objects.create(user=user).key)
"""


def api_token(backend):
    result = subprocess.run(
        [common.PYTHON, "manage.py", "shell", "-c", MAKE_TOKEN],
        cwd=common.ROOT,
        env=backend.environ(),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


async def post_commands(api_server, token, identities, total, concurrency):
    queue = asyncio.Queue()
    for index in range(total):
        queue.put_nowait(identities[index % len(identities)])
    http_latencies, failures = [], []

    async def client():
        async with httpx.AsyncClient(
            base_url=f"{api_server.http}/api/v1", timeout=60, headers={"Authorization": f"Token {token}"}
        ) as http:
            while not queue.empty():
                identity = queue.get_nowait()
                started = time.monotonic()
                answer = await http.post(
                    f"/stations/{identity}/commands/", json={"action": "ClearCache", "payload": {}, "wait": 0}
                )
                http_latencies.append(time.monotonic() - started)
                if answer.status_code not in (201, 202):
                    failures.append(answer.status_code)

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.monotonic() - started, sorted(http_latencies), failures


def outcomes(database_url, deadline):
    with psycopg.connect(database_url) as connection:
        while True:
            pending = connection.execute(
                "select count(*) from csms_command where status in ('queued', 'sent')"
            ).fetchone()[0]
            if pending == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        rows = connection.execute(
            "select status, extract(epoch from finished_at - created_at), "
            "extract(epoch from created_at), extract(epoch from finished_at), "
            "extract(epoch from sent_at - created_at) from csms_command"
        ).fetchall()
    return pending, rows


def cpu_of(processes):
    return {name: common.cpu_seconds(process.pid) for name, process in processes.items()}


async def run(server, api_server, backend, options):
    profile = Profile(charging_share=0, deflate=False, call_timeout=60)
    fleet = Fleet(server.url, options.stations, ("2.0.1", "1.6"), profile=profile, ramp_up=2, seed=3, prefix="CMD-")
    await fleet.start()
    await fleet.wait_until(lambda: fleet.stats.accepted >= options.stations, 120)
    await asyncio.sleep(2)
    token = await asyncio.to_thread(api_token, backend)
    if options.profile:
        subprocess.Popen(  # noqa: ASYNC220 (py-spy runs beside the load, 15 s)
            [
                str(Path(common.PYTHON).parent / "py-spy"),
                "record",
                "--pid",
                str(server.process.pid),
                "--duration",
                "15",
                "--format",
                "raw",
                "--output",
                options.profile,
                "--nonblocking",
                "--threads",
                "--gil",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    identities = [station.identity for station in fleet.stations]
    cpu_before = common.cpu_seconds(server.process.pid)
    # CPU per command of every CSMS process on the path: a figure that survives a shared, loaded box.
    processes = {"socket server": server.process, "worker": backend.worker}
    if api_server is not server:
        processes["API server"] = api_server.process
    path_cpu_before = cpu_of(processes)
    try:
        posting_s, http, failures = await post_commands(
            api_server, token, identities, options.commands, options.concurrency
        )
        server_cpu = (common.cpu_seconds(server.process.pid) - cpu_before) / posting_s
        pending, rows = await asyncio.to_thread(outcomes, backend.env["DATABASE_URL"], time.monotonic() + 120)
        path_cpu = {name: seconds - path_cpu_before[name] for name, seconds in cpu_of(processes).items()}
    finally:
        await fleet.stop()
    return posting_s, http, failures, pending, rows, dict(fleet.stats.answered), server_cpu, path_cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--api-process", action="store_true",
                        help="serve the API from a second server process (stations stay on the first)")
    parser.add_argument("--profile", help="write a py-spy raw profile (GIL holders) of the server")
    options = parser.parse_args()
    common.raise_open_files_limit()
    backend = common.Backend("services", celery_worker=True)
    worker = backend.start_worker()
    server = common.Server(options.server, backend).start()
    api_server = common.Server(options.server, backend).start() if options.api_process else server
    try:
        posting_s, http, failures, pending, rows, answered, server_cpu, path_cpu = asyncio.run(
            run(server, api_server, backend, options))
    finally:
        server.stop()
        api_server.stop()
        backend.close()
    finished = [row for row in rows if row[1] is not None]
    latencies = sorted(float(row[1]) for row in finished)
    to_sent = sorted(float(row[4]) for row in finished if row[4] is not None)
    statuses = {}
    for row in rows:
        statuses[row[0]] = statuses.get(row[0], 0) + 1
    span = (max(float(r[3]) for r in finished) - min(float(r[2]) for r in finished)) if finished else 0
    per_second = len(finished) / span if span else 0
    common.record(
        f"commands_out-{options.server}",
        [
            f"# Commands out ({common.now()})",
            f"machine: {common.machine()}; load average at end {common.load_average()}",
            f"server: {server.describe()}"
            + (f", API served by a second process ({api_server.describe()})" if options.api_process else "")
            + f"; backend: {backend.describe()} (pid {worker.pid})",
            f"{options.stations} stations, {options.commands} ClearCache commands posted by "
            f"{options.concurrency} concurrent API clients in {posting_s:.1f} s "
            f"(HTTP p50 {1000 * percentile(http, 0.5):.0f} ms, p99 {1000 * percentile(http, 0.99):.0f} ms,"
            f" failures {len(failures)}: {sorted(set(failures))}); server CPU while posting "
            f"{100 * server_cpu:.0f}%",
            f"outcomes: {statuses}; still pending after the wait: {pending}; answered by stations: "
            f"{sum(answered.values())}",
            f"created -> outcome recorded: p50 {1000 * percentile(latencies, 0.5):.0f} ms, "
            f"p99 {1000 * percentile(latencies, 0.99):.0f} ms, max {1000 * latencies[-1]:.0f} ms"
            if latencies
            else "no outcome recorded",
            f"of which created -> sent to the station (API commit, nudge, claim): "
            f"p50 {1000 * percentile(to_sent, 0.5):.0f} ms, p99 {1000 * percentile(to_sent, 0.99):.0f} ms"
            if to_sent
            else "",
            f"throughput: {per_second:.0f} commands/s (first created -> last outcome)",
            "CPU per command (posting until every outcome is in): "
            + ", ".join(f"{name} {1000 * seconds / max(len(rows), 1):.2f} ms" for name, seconds in path_cpu.items())
            + f"; together {1000 * sum(path_cpu.values()) / max(len(rows), 1):.2f} ms",
        ],
    )


if __name__ == "__main__":
    main()
