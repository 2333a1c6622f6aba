"""Figures over a filtered set of transactions (the list page's totals line and the API's
`transactions/totals/`): one aggregate query, and the duration of one session."""
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, DateTimeField, DurationField, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone


def _counted(now):
    """Sessions whose duration counts: a start, and an end not before it (a running one: a start
    not in the future); an impossible pair is flagged as an anomaly elsewhere, never summed."""
    return (Q(started_at__isnull=False)
            & (Q(ended_at__gte=F("started_at")) | Q(ended_at__isnull=True, started_at__lte=now)))


def totals(queryset, now=None):
    """{'count', 'energy_kwh', 'duration_seconds'} of the queryset; a running session counts its
    time until `now`."""
    now = now or timezone.now()
    elapsed = Coalesce("ended_at", Value(now, output_field=DateTimeField())) - F("started_at")
    figures = queryset.order_by().aggregate(
        count=Count("pk"),
        energy_wh=Sum("energy_wh"),
        duration=Sum(elapsed, output_field=DurationField(), filter=_counted(now)),
    )
    energy_wh = figures["energy_wh"] or Decimal(0)
    duration = figures["duration"] or timedelta(0)
    return {
        "count": figures["count"],
        "energy_kwh": (Decimal(energy_wh) / 1000).quantize(Decimal("0.001")),
        "duration_seconds": int(duration.total_seconds()),
    }


def duration_seconds(transaction, now=None):
    """Seconds from start to end (so far, while running); None without a start or when the end
    is before it."""
    if transaction.started_at is None:
        return None
    end = transaction.ended_at or now or timezone.now()
    seconds = (end - transaction.started_at).total_seconds()
    return int(seconds) if seconds >= 0 else None


def format_duration(seconds):
    """'2 d 04 h', '1 h 05 min', '3 min 20 s', '45 s'; '—' for None."""
    if seconds is None:
        return "—"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours:02d} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
