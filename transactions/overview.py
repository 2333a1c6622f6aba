"""The charging figures of the network overview (stations.overview): sessions running, live
power, energy today and the last 24 hours of power and sessions; aggregate queries only."""
from datetime import datetime, timedelta, timezone as dt_timezone
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Count, Func, IntegerField, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from stations import overview

from .models import MeterValue, Transaction

POWER = "Power.Active.Import"
ENERGY = "Energy.Active.Import.Register"
PHASES = ("L1", "L2", "L3")
# A running transaction's power counts while its latest reading is this recent.
POWER_READING_MAX_AGE = timedelta(minutes=15)
HISTORY_SPAN = timedelta(hours=24)
HISTORY_BUCKET_SECONDS = 900
# The history's finished buckets scan a day of readings: each server process reads them at
# most this often (and when a new bucket begins).
HISTORY_CACHE_SECONDS = 60


@overview.register
def charging_figures(now):
    return {
        "sessions_running": Transaction.objects.filter(state=Transaction.State.ACTIVE).count(),
        "power_kw": round(power_w(now) / 1000, 3),
        "energy_today_kwh": round(energy_today_wh(now) / 1000, 3),
        "history": history(now),
    }


def power_w(now):
    """Sum of each running transaction's latest Power.Active.Import (its phase-less total, else
    the sum of its phases), readings of the last POWER_READING_MAX_AGE only."""
    recent = MeterValue.objects.filter(measurand=POWER, timestamp__gte=now - POWER_READING_MAX_AGE,
                                       value__isnull=False, after_end=False)
    latest = recent.filter(transaction=OuterRef("transaction")).order_by("-timestamp")
    readings = (recent.filter(transaction__state=Transaction.State.ACTIVE)
                .filter(Q(phase="") | Q(phase__in=PHASES))
                .filter(timestamp=Subquery(latest.values("timestamp")[:1]))
                .values_list("transaction_id", "phase", "value"))
    per_transaction = {}
    for transaction_id, phase, value in readings:
        total, phases = per_transaction.setdefault(transaction_id, [None, Decimal(0)])
        if phase:
            per_transaction[transaction_id][1] = phases + value
        else:
            per_transaction[transaction_id][0] = value
    return float(sum(total if total is not None else phases
                     for total, phases in per_transaction.values()))


def start_of_day(now):
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def energy_today_wh(now):
    """Energy of the transactions started today, plus today's part of those running since
    before midnight (their energy less what their register had counted at midnight)."""
    midnight = start_of_day(now)
    started_today = Transaction.objects.filter(started_at__gte=midnight).aggregate(
        energy=Sum("energy_wh"))["energy"] or Decimal(0)
    register_at_midnight = MeterValue.objects.filter(
        transaction=OuterRef("pk"), measurand=ENERGY, phase="", value__isnull=False,
        timestamp__lt=midnight).order_by("-timestamp").values("value")[:1]
    earlier = (Transaction.objects.filter(started_at__lt=midnight)
               .filter(Q(state=Transaction.State.ACTIVE) | Q(ended_at__gte=midnight))
               .annotate(register_at_midnight=Subquery(register_at_midnight))
               .values_list("energy_wh", "meter_start_wh", "register_at_midnight"))
    carried_over = Decimal(0)
    for energy, meter_start, at_midnight in earlier:
        before = (at_midnight - meter_start) if at_midnight is not None and meter_start is not None \
            else Decimal(0)
        carried_over += max(Decimal(0), energy - before)
    return float(started_today + carried_over)


class EpochBucket(Func):
    """The number of the `seconds`-long slice of Unix time a timestamp falls in."""
    output_field = IntegerField()

    def __init__(self, expression, seconds):
        super().__init__(expression, seconds=int(seconds))

    def as_sqlite(self, compiler, connection, **extra):
        # julianday in seconds, rounded to the millisecond so a boundary falls in its own slice.
        return self.as_sql(compiler, connection, template=(
            "CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400, 3) AS INTEGER)"
            " / %(seconds)s"), **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template=(
            "CAST(FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / %(seconds)s) AS BIGINT)"), **extra)


def history(now):
    """The last 24 h in 15-minute buckets: average network power (kW) and sessions running.
    The finished buckets are cached; the current one is read each time (it is live)."""
    bucket_seconds = HISTORY_BUCKET_SECONDS
    current = int(now.timestamp()) // bucket_seconds
    count = int(HISTORY_SPAN.total_seconds()) // bucket_seconds
    key = f"overview-history:{current}"
    finished = cache.get(key)
    if finished is None:
        finished = _buckets(current - count + 1, current - 1, bucket_seconds)
        cache.set(key, finished, HISTORY_CACHE_SECONDS)
    return {"bucket_seconds": bucket_seconds,
            "points": finished + _buckets(current, current, bucket_seconds)}


def _compute_history(current, bucket_seconds):
    """The whole history up to the bucket `current`, uncached."""
    count = int(HISTORY_SPAN.total_seconds()) // bucket_seconds
    return {"bucket_seconds": bucket_seconds,
            "points": _buckets(current - count + 1, current, bucket_seconds)}


def _buckets(first, last, bucket_seconds):
    """Buckets number `first` to `last` (of Unix time sliced in `bucket_seconds`)."""
    starts = [_at(number * bucket_seconds) for number in range(first, last + 2)]
    power = _power_by_bucket(starts[0], starts[-1], bucket_seconds)
    sessions = _sessions_by_bucket(starts)
    return [{"start": starts[index], "power_kw": round(power.get(first + index, 0) / 1000, 3),
             "sessions": sessions[index]} for index in range(last - first + 1)]


def _at(epoch_seconds):
    return datetime.fromtimestamp(epoch_seconds, tz=dt_timezone.utc)


def _power_by_bucket(start, end, bucket_seconds):
    """Per bucket: the sum over transactions of each one's average power in it (phase-less
    total, else the sum of its phases). Two GROUP BYs over one query of the readings."""
    per_phase = (MeterValue.objects.filter(
        measurand=POWER, transaction__isnull=False, value__isnull=False, after_end=False,
        timestamp__gte=start, timestamp__lt=end).filter(Q(phase="") | Q(phase__in=PHASES))
        .annotate(bucket=EpochBucket("timestamp", bucket_seconds))
        .values("bucket", "transaction_id", "phase").annotate(average=Avg("value")).order_by())
    sql, params = per_phase.query.sql_with_params()
    phases = ", ".join(["%s"] * len(PHASES))
    query = (
        "SELECT bucket, SUM(transaction_power) FROM ("
        " SELECT bucket, transaction_id, COALESCE("
        "  MAX(CASE WHEN phase = '' THEN average END),"
        f"  SUM(CASE WHEN phase IN ({phases}) THEN average END)) AS transaction_power"
        f" FROM ({sql}) per_phase GROUP BY bucket, transaction_id"
        ") per_transaction GROUP BY bucket")
    with connection.cursor() as cursor:
        cursor.execute(query, [*PHASES, *params])
        return {int(bucket): float(total or 0) for bucket, total in cursor.fetchall()}


def _sessions_by_bucket(starts):
    """Per bucket: transactions running at some moment of it (one conditional count each)."""
    running = {
        f"b{index}": Count("id", filter=Q(started_at__lt=starts[index + 1])
                           & (Q(ended_at__isnull=True) | Q(ended_at__gte=starts[index])))
        for index in range(len(starts) - 1)
    }
    counts = (Transaction.objects.filter(started_at__isnull=False, started_at__lt=starts[-1])
              .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=starts[0]))
              .aggregate(**running))
    return [counts[f"b{index}"] for index in range(len(starts) - 1)]
