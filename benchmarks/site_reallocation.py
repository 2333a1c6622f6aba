"""Benchmark 7: a site's whole reallocation round trip. N simulated stations (1.6 and 2.0.1 mixed),
every one charging, on one site; an event (the site limit lowered or raised through the API, a
session ending or starting) until every SetChargingProfile it caused is answered, from the Command
rows' times. The limits the stations hold are sampled every 50 ms and checked against the site
limit throughout. Usage: benchmarks/README.md."""

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common  # noqa: E402
from simulator.ev import EV  # noqa: E402
from simulator.fleet import Fleet  # noqa: E402
from simulator.profile import Profile  # noqa: E402

RATING_W = 22_000.0
CAR_W = 11_000.0
# Each idle EVSE's fallback TxDefaultProfile (W): small, so a session starting or ending moves
# every other session's share (a round touching every station, not one).
FALLBACK_W = 2_000.0
# Nothing new for this long after the last answer: the event's rounds are over.
QUIET_S = 2.0


def held_w(station, evse):
    """What an EVSE of a simulated station may draw: its composite limit (and its station's)
    capped by its rating."""
    limits = [station.profile.max_power_w]
    for limit in (evse.limit_w, station.smart.station_limit_w):
        if limit is not None:
            limits.append(limit)
    return min(limits)


class HeldSampler:
    """The sum of what every station holds, every `interval` s, on the fleet's own loop."""

    def __init__(self, fleet, interval=0.05):
        self.fleet = fleet
        self.interval = interval
        self.samples = []  # (utc datetime, W)
        self.task = None

    def start(self):
        self.task = asyncio.create_task(self._run())

    async def _run(self):
        while True:
            total = sum(held_w(station, evse) for station in self.fleet.stations for evse in station.evses)
            self.samples.append((datetime.now(UTC), total))
            await asyncio.sleep(self.interval)

    async def stop(self):
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    def between(self, start, end=None):
        return [(when, watts) for when, watts in self.samples if when >= start and (end is None or when < end)]


# --- the database, read in this process (Django) ---------------------------------------------


def setup_django(backend):
    os.environ.update(backend.environ())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csms.settings")
    import django

    django.setup()


def api_token():
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    user = User.objects.create_superuser(f"bench-{uuid.uuid4().hex[:6]}", "bench@example.test", "bench-password-1")
    return Token.objects.create(user=user).key


def site_state(site_pk):
    """(settled, members with a fallback held, running transactions, rounds): settled when no
    round is due or running, no allocation waits for an answer and no profile is in flight."""
    from csms.models import Command
    from smartcharging.models import Site, SiteAllocation, SiteMember
    from transactions.models import Transaction

    site = Site.objects.get(pk=site_pk)
    members = SiteMember.objects.filter(site_id=site_pk)
    identities = list(members.values_list("station__identity", flat=True))
    in_flight = Command.objects.filter(
        identity__in=identities, action="SetChargingProfile", status__in=("queued", "sent")
    ).exists()
    pending = SiteAllocation.objects.filter(site_id=site_pk, state=SiteAllocation.State.PENDING).exists()
    settled = site.reallocation_due_at is None and site.round_lease_until is None and not pending and not in_flight
    return (
        settled,
        SiteAllocation.objects.filter(site_id=site_pk, fallback_held__isnull=False)
        .values("station_id").distinct().count(),
        Transaction.objects.filter(station__identity__in=identities, state=Transaction.State.ACTIVE).count(),
        site.rounds,
    )


def profiles_since(site_pk, since):
    """[(created_at, sent_at, finished_at, status)] of every SetChargingProfile to the site's
    stations created at or after `since`."""
    from csms.models import Command
    from smartcharging.models import SiteMember

    identities = list(SiteMember.objects.filter(site_id=site_pk).values_list("station__identity", flat=True))
    return list(
        Command.objects.filter(identity__in=identities, action="SetChargingProfile", created_at__gte=since)
        .order_by("created_at")
        .values_list("created_at", "sent_at", "finished_at", "status")
    )


def rounds_of(site_pk):
    """(rounds run, the last round's summary) of the site."""
    from smartcharging.models import Site

    return Site.objects.values_list("rounds", "last_round").get(pk=site_pk)


def command_times(command_pks):
    """[(created_at, finished_at, status)] of these commands."""
    from csms.models import Command

    return list(Command.objects.filter(pk__in=command_pks).values_list("created_at", "finished_at", "status"))


async def watch_rounds(site_pk, seen, found, stop):
    """Keep each round's summary as it is recorded (a round takes seconds; polled every 50 ms)."""
    while True:
        rounds, summary = await asyncio.to_thread(rounds_of, site_pk)
        if rounds > seen:
            found.append((rounds - seen, summary))
            seen = rounds
        if stop.is_set():
            return
        await asyncio.sleep(0.05)


async def wait_settled(site_pk, condition=lambda state: True, timeout=300):
    """Until the site is settled (and `condition(state)` holds) for QUIET_S on end."""
    deadline = time.monotonic() + timeout
    since = None
    while time.monotonic() < deadline:
        state = await asyncio.to_thread(site_state, site_pk)
        if state[0] and condition(state):
            since = since or time.monotonic()
            if time.monotonic() - since >= QUIET_S:
                return state
        else:
            since = None
        await asyncio.sleep(0.1)
    raise SystemExit(f"site {site_pk} did not settle within {timeout} s: {state}")


# --- events ----------------------------------------------------------------------------------


async def measure(label, site_pk, trigger, sampler, bound_before, bound_after):
    """Run `trigger`, wait until the rounds it caused are over, and return the figures of the
    event: its first round (what the event itself needed) and every round until quiet."""
    rounds_before = (await asyncio.to_thread(site_state, site_pk))[3]
    rounds, stop = [], asyncio.Event()
    watcher = asyncio.create_task(watch_rounds(site_pk, rounds_before, rounds, stop))
    started = datetime.now(UTC)
    await trigger()
    await asyncio.sleep(0.2)
    await wait_settled(site_pk, lambda state: state[3] > rounds_before)
    stop.set()
    await watcher
    rows = await asyncio.to_thread(profiles_since, site_pk, started)
    answered = [row for row in rows if row[2] is not None]
    first = rounds[0][1] if rounds else {}
    first_pks = [frame["command"] for frame in first.get("frames", []) if "command" in frame]
    first_rows = await asyncio.to_thread(command_times, first_pks)
    first_answered = [row[1] for row in first_rows if row[1] is not None]
    phases, later_phases = {}, {}
    for frame in first.get("frames", []):
        phases[frame["phase"]] = phases.get(frame["phase"], 0) + 1
    for _, summary in rounds[1:]:
        for frame in summary.get("frames", []):
            later_phases[frame["phase"]] = later_phases.get(frame["phase"], 0) + 1
    held = sampler.between(started)
    # Held above the higher of the old and new limit: a breach. Above a new lower limit: the
    # time it took to take hold (the decreases' round trip).
    violations = [watts for _, watts in held if watts > max(bound_before, bound_after) + 1.0]
    honoured = None
    if bound_after < bound_before:
        last_over = max((when for when, watts in held if watts > bound_after + 1.0), default=None)
        held_from = next((when for when, _ in held if last_over is None or when > last_over), None)
        honoured = None if held_from is None else max((held_from - started).total_seconds(), 0.0)
    return {
        "event": label,
        "first_profiles": len(first_pks),
        "first_phases": phases,
        "first_statuses": {status: sum(1 for row in first_rows if row[2] == status)
                           for status in {row[2] for row in first_rows}},
        "first_created_s": (min(row[0] for row in first_rows) - started).total_seconds() if first_rows else None,
        "round_trip_s": (max(first_answered) - started).total_seconds() if first_answered else None,
        "round_ms": first.get("timings", {}),
        "creating_s": (max(row[0] for row in first_rows) - min(row[0] for row in first_rows)).total_seconds()
        if first_rows else None,
        "answering_s": (max(first_answered) - max(row[0] for row in first_rows)).total_seconds()
        if first_answered else None,
        "rounds": sum(count for count, _ in rounds),
        "later_phases": later_phases,
        "profiles": len(rows),
        "quiet_s": (max(row[2] for row in answered) - started).total_seconds() if answered else None,
        "honoured_s": honoured,
        "held_max_w": max((watts for _, watts in held), default=None),
        "bound_w": bound_after,
        "violations": len(violations),
    }


async def run(server, backend, options):
    setup_django(backend)
    token = await asyncio.to_thread(api_token)
    site_w = options.stations * options.share_kw * 1000
    lower_w = options.stations * options.lower_kw * 1000
    profile = Profile(
        charging_share=0,
        meter_interval=options.meter_interval,
        heartbeat_interval=600,
        max_power_w=RATING_W,
        session_seconds=(3600, 3600),
        deflate=False,
        call_timeout=60,
        reconnect_min=2,
    )
    fleet = Fleet(server.url, options.stations, ("2.0.1", "1.6"), profile=profile,
                  ramp_up=options.stations / 50, seed=11, prefix=f"SITE-{backend.run_id}-")
    await fleet.start()
    if not await fleet.wait_until(lambda: fleet.stats.accepted >= options.stations, 120):
        raise SystemExit(f"only {fleet.stats.accepted} of {options.stations} stations booted")
    results = []
    sampler = HeldSampler(fleet)
    try:
        async with httpx.AsyncClient(base_url=f"{server.http}/api/v1", timeout=120,
                                     headers={"Authorization": f"Token {token}"}) as api:
            created = await api.post("/sites/", json={
                "name": f"bench-{backend.run_id}", "limit_unit": "W", "fallback_limit": FALLBACK_W,
                "limit_periods": [{"startPeriod": 0, "limit": site_w}]})
            assert created.status_code == 201, created.text
            site_pk = created.json()["id"]
            for station in fleet.stations:
                added = await api.post(f"/sites/{site_pk}/members/", json={
                    "station": station.identity, "evse_max_power": RATING_W})
                assert added.status_code == 201, added.text
            await wait_settled(site_pk, lambda state: state[1] == options.stations)
            # Every station charges (cars of 11 kW, more than their share).
            for station in fleet.stations:
                station.spawn(station.charge(station.evses[0], station.regular_token(station.evses[0]),
                                             duration=3600, ev=EV(max_power_w=CAR_W)))
                await asyncio.sleep(0.05)
            # The cars' ramps settle (a car drawing less than its share is re-planned).
            await wait_settled(site_pk, lambda state: state[2] == options.stations)
            await asyncio.sleep(2 * options.meter_interval)
            await wait_settled(site_pk)
            sampler.start()

            async def set_limit(watts):
                answer = await api.patch(f"/sites/{site_pk}/", json={
                    "limit_periods": [{"startPeriod": 0, "limit": watts}]})
                assert answer.status_code == 200, answer.text

            moving = fleet.stations[0]

            async def end_session():
                moving.evses[0].session.request_stop("Local")

            async def start_session():
                evse = moving.evses[0]
                moving.spawn(moving.charge(evse, moving.regular_token(evse), duration=3600,
                                           ev=EV(max_power_w=CAR_W)))

            for repeat in range(options.repeats):
                for label, trigger, before, after in (
                    ("limit lowered", lambda: set_limit(lower_w), site_w, lower_w),
                    ("limit raised", lambda: set_limit(site_w), lower_w, site_w),
                    ("session ended", end_session, site_w, site_w),
                    ("session started", start_session, site_w, site_w),
                ):
                    result = await measure(label, site_pk, trigger, sampler, before, after)
                    result["repeat"] = repeat + 1
                    results.append(result)
                    print(format_event(result), flush=True)
                    # Let the meter readings that follow the event in before the next one.
                    await asyncio.sleep(options.meter_interval + 1)
                    await wait_settled(site_pk)
    finally:
        if sampler.task is not None:
            await sampler.stop()
        await fleet.stop()
    return results, fleet.stats


def format_event(result):
    head = f"  {result['event']} (#{result['repeat']}): "
    if result["round_trip_s"] is None:
        return head + f"no profile sent ({result['rounds']} rounds)"
    timings = result["round_ms"]
    line = (
        head + f"first round {result['first_profiles']} profiles {result['first_phases']} "
        f"{result['first_statuses']}: trigger -> first profile {result['first_created_s']:.2f} s, -> all "
        f"answered {result['round_trip_s']:.2f} s; round {timings.get('total_ms')} ms (reading and "
        f"computing {timings.get('compute_ms')}, decreases sent and answered {timings.get('decreases_ms')}, "
        f"increases {timings.get('increases_ms')}; profiles created over {result['creating_s']:.2f} s, the "
        f"last answered {result['answering_s']:.2f} s after the last was created); until quiet "
        f"{result['rounds']} round(s), {result['profiles']} profiles (after the first: "
        f"{result['later_phases'] or 'none'}), last answer at {result['quiet_s']:.2f} s; held max "
        f"{result['held_max_w'] / 1000:.1f} kW for {result['bound_w'] / 1000:.1f} kW"
    )
    if result["honoured_s"] is not None:
        line += f", the lower limit held after {result['honoured_s']:.2f} s"
    return line + f", violations {result['violations']}"


def summarise(results):
    lines = []
    for label in dict.fromkeys(result["event"] for result in results):
        rows = [r for r in results if r["event"] == label and r["round_trip_s"] is not None]
        if not rows:
            continue
        trips = sorted(r["round_trip_s"] for r in rows)
        totals = sorted(r["round_ms"].get("total_ms") or 0 for r in rows)
        computing = statistics.median(r["round_ms"].get("compute_ms") or 0 for r in rows)
        creating = statistics.median(r["creating_s"] for r in rows)
        quiet = sorted(r["quiet_s"] for r in rows)
        lines.append(
            f"{label}: first round {statistics.median(r['first_profiles'] for r in rows):.0f} profiles; "
            f"trigger -> all answered median {statistics.median(trips):.2f} s, max {trips[-1]:.2f} s "
            f"(the round itself median {statistics.median(totals) / 1000:.2f} s, max {totals[-1] / 1000:.2f} s, "
            f"of which reading/computing {computing / 1000:.2f} s; its profiles created over "
            f"{creating:.2f} s); "
            f"until quiet median {statistics.median(quiet):.2f} s, "
            f"{statistics.median(r['rounds'] for r in rows):.0f} round(s) ({len(rows)} events)"
        )
    violations = sum(r["violations"] for r in results)
    lines.append(f"held sum above the limit in force (sampled every 50 ms): {violations} samples")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--backend", choices=["embedded", "services"], default="embedded")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--share-kw", type=float, default=9.0, help="site limit per station (kW)")
    parser.add_argument("--lower-kw", type=float, default=6.0, help="lowered limit per station (kW)")
    parser.add_argument("--meter-interval", type=float, default=10.0)
    parser.add_argument("--server", choices=["daphne"], default="daphne")
    options = parser.parse_args()
    common.raise_open_files_limit()
    backend = common.Backend(options.backend, celery_worker=options.backend == "services")
    worker = backend.start_worker() if options.backend == "services" else None
    server = common.Server(options.server, backend).start()
    started, load_at_start = common.now(), common.load_average()
    try:
        results, stats = asyncio.run(run(server, backend, options))
    finally:
        server.stop()
        backend.close()
    common.record(
        f"site_reallocation-{options.backend}",
        [
            f"# Site reallocation round trip ({started})",
            f"machine: {common.machine()}; load average at start {load_at_start}, at end "
            f"{common.load_average()} (a machine shared with other work)",
            f"server: {server.describe()}; backend: {backend.describe()}"
            + (f" (worker pid {worker.pid})" if worker else ""),
            f"{options.stations} stations (2.0.1 and 1.6 alternating), one EVSE each, all charging 11 kW "
            f"cars; site limit {options.stations * options.share_kw:.0f} kW, lowered to "
            f"{options.stations * options.lower_kw:.0f} kW and back; fallback {FALLBACK_W / 1000:.0f} kW per "
            f"idle EVSE; meter interval {options.meter_interval:.0f} s; {options.repeats} repeats",
            *[format_event(result) for result in results],
            *summarise(results),
            f"station-side errors: {dict(stats.errors) or 'none'}; call timeouts "
            f"{stats.counters['call_timeouts']}",
        ],
    )


if __name__ == "__main__":
    main()
