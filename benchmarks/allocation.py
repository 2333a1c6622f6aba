"""How long the site load allocator (`smartcharging/allocation.py`) takes for one site: a car park of
N EVSEs with running transactions of mixed priorities, minimums, EV maximums, some EVs drawing less
than they were given. Pure computation, no server or database; the target is ≤ 50 ms at 1,000/600.

Usage: .venv/bin/python benchmarks/allocation.py [--sites 100:60,1000:600,10000:6000] [--repetitions 200]
"""
import argparse
import itertools
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common  # noqa: E402
from smartcharging.allocation import Demand, allocate, explain  # noqa: E402

VOLTAGE = 230.0
TARGET_MS = 50.0


def three_phase(amperes):
    return 3 * VOLTAGE * amperes


def site(evses, transactions, limit_share, seed):
    """The demands of one round: every running transaction with what last round gave it.

    EVSEs are 11 or 22 kW; EVs take 3.7 to 22 kW on one or three phases; a third have a 6 A
    minimum; priorities 0-3 with most at 0; the site limit is `limit_share` of what the EVs could
    take (at 8 % not every minimum fits, so some are paused)."""
    chooser = random.Random(seed)
    busy = chooser.sample(range(evses), transactions)
    drafts = []
    for evse in busy:
        rating = chooser.choice([three_phase(16), three_phase(32)])
        phases = chooser.choice([1, 3, 3])
        ev_maximum = VOLTAGE * phases * chooser.choice([16, 32])
        drafts.append(dict(
            key=f"evse-{evse}", max_power=min(rating, ev_maximum),
            min_power=chooser.choice([0.0, 0.0, VOLTAGE * phases * 6]),  # minChargingRate 6 A
            priority=chooser.choices([0, 1, 2, 3], weights=[70, 15, 10, 5])[0]))
    budget = limit_share * sum(draft["max_power"] for draft in drafts)
    previous = allocate(budget, [Demand(**draft) for draft in drafts])
    demands = []
    for draft in drafts:
        given = previous[draft["key"]]
        # Most draw what they were given; one in four draws far less (a full battery, a cold one).
        ratio = chooser.uniform(0.2, 0.8) if chooser.random() < 0.25 else chooser.uniform(0.92, 1.0)
        demands.append(Demand(**draft, previous=given or None, measured=given * ratio if given else None))
    return budget, demands


def measure(evses, transactions, limit_share, repetitions, seed):
    budget, demands = site(evses, transactions, limit_share, seed)
    timings, cpu_timings = [], []
    for _ in range(repetitions):
        started, cpu_started = time.perf_counter(), time.process_time()
        shares = allocate(budget, demands)
        timings.append((time.perf_counter() - started) * 1000)
        cpu_timings.append((time.process_time() - cpu_started) * 1000)
    timings.sort()
    cpu_timings.sort()
    reasons = [share.reason for share in explain(budget, demands).values()]
    return {
        "evses": evses, "transactions": transactions, "repetitions": repetitions,
        "median": statistics.median(timings), "p95": timings[int(0.95 * (len(timings) - 1))],
        "max": timings[-1], "cpu_median": statistics.median(cpu_timings),
        "cpu_p95": cpu_timings[int(0.95 * (len(cpu_timings) - 1))],
        "budget": budget, "allocated": sum(shares.values()),
        "paused": sum(reason.startswith("paused") for reason in reasons),
        "reclaimed": sum(reason.startswith("capped at measured") for reason in reasons),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", default="100:60,1000:600,10000:6000",
                        help="EVSEs:running transactions, comma-separated")
    parser.add_argument("--repetitions", type=int, default=200,
                        help="timed calls per site (a tenth of it, at least 10, above 5,000 EVSEs)")
    parser.add_argument("--limits", default="0.4,0.08",
                        help="site limits as shares of the EVs' maximums, comma-separated")
    parser.add_argument("--seed", type=int, default=9)
    options = parser.parse_args()
    lines = [
        f"# Site load allocation ({common.now()})",
        f"machine: {common.machine()}; load average at start {common.load_average()}",
        "allocate() alone, in-process, the same site each repetition; site limit a share of what "
        "the EVs could take; wall time, and the process's CPU time (what the machine's other "
        "load does not inflate)",
        "",
        "| EVSEs | transactions | site limit | repetitions | median ms | p95 ms | max ms "
        "| CPU median / p95 ms | budget kW | allocated kW | paused | reclaimed |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    sizes = [tuple(int(part) for part in size.split(":")) for size in options.sites.split(",")]
    for (evses, transactions), limit_share in itertools.product(
            sizes, [float(share) for share in options.limits.split(",")]):
        repetitions = options.repetitions if evses <= 5000 else max(10, options.repetitions // 10)
        result = measure(evses, transactions, limit_share, repetitions, options.seed)
        lines.append(
            f"| {evses:,} | {transactions:,} | {limit_share:.0%} | {repetitions} | {result['median']:.2f} | "
            f"{result['p95']:.2f} | {result['max']:.2f} | "
            f"{result['cpu_median']:.2f} / {result['cpu_p95']:.2f} | {result['budget'] / 1000:,.1f} | "
            f"{result['allocated'] / 1000:,.1f} | {result['paused']} | {result['reclaimed']} |")
        if (evses, transactions) == (1000, 600):
            verdict = ("met" if result["max"] <= TARGET_MS
                       else "met at p95" if result["p95"] <= TARGET_MS else "missed")
            verdicts.append(
                f"target ≤ {TARGET_MS:.0f} ms at 1,000/600, limit {limit_share:.0%}: median "
                f"{result['median']:.2f} ms, p95 {result['p95']:.2f} ms, max {result['max']:.2f} ms: "
                f"{verdict}")
    lines += ["", *verdicts, f"load average at end {common.load_average()}"]
    common.record("allocation", lines)


if __name__ == "__main__":
    main()
