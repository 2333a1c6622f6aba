"""The network at a glance (home page and /api/v1/overview/): station and connector counts, the
stations that need attention, plus the figures other apps register here (power, energy, alerts).
Every figure is an aggregate query: the cost does not grow with a loop over stations."""
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from .models import Alert, Connector, Station

# Connector states as the overview groups them (2.0.1 ConnectorStatus and 1.6 ChargePointStatus).
CONNECTOR_GROUPS = {
    "available": ("Available",),
    "occupied": ("Occupied", "Charging", "Preparing", "SuspendedEV", "SuspendedEVSE", "Finishing"),
    "reserved": ("Reserved",),
    "faulted": ("Faulted",),
    "unavailable": ("Unavailable",),
}
FAULTED = "Faulted"
ATTENTION_ROWS = 50
ALERT_ROWS = 10

_providers = []
_discovered = False


def register(provider):
    """Add a figures provider: `provider(now)` returns a dict merged into the overview; its
    "alerts" ({"active": n, "latest": [alert rows]}) join the other apps' alerts. Apps put
    theirs in an `overview.py` module, found the way the admin finds `admin.py`."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def figures(now=None):
    global _discovered
    if not _discovered:
        autodiscover_modules("overview")
        _discovered = True
    now = now or timezone.now()
    result = {"generated_at": now, "stations": station_counts(), "connectors": connector_counts()}
    result.update(attention())
    alerts = operational_alerts()
    for provider in _providers:
        part = provider(now)
        # Several apps raise alerts: their counts add up, their latest are shown together.
        provided = part.pop("alerts", None)
        if provided:
            alerts["active"] += provided["active"]
            alerts["latest"] += provided["latest"]
        result.update(part)
    alerts["latest"] = sorted(alerts["latest"], key=lambda alert: alert["raised_at"],
                              reverse=True)[:ALERT_ROWS]
    result["alerts"] = alerts
    return result


def _has_faulted_connector():
    return Exists(Connector.objects.filter(station=OuterRef("pk"), status=FAULTED))


def _faulted_station():
    # 1.6 StatusNotification on connector 0 speaks for the whole station.
    return Q(status=FAULTED) | Q(has_faulted_connector=True)


def _counts(queryset, **aggregates):
    # Aliased apart from the field names: an aggregate named like a field it filters on fails.
    counts = queryset.aggregate(**{f"count_{name}": value for name, value in aggregates.items()})
    return {name: counts[f"count_{name}"] for name in aggregates}


def station_counts():
    registration = Station.RegistrationStatus
    return _counts(
        Station.objects.annotate(has_faulted_connector=_has_faulted_connector()),
        total=Count("id"),
        online=Count("id", filter=Q(online=True)),
        offline=Count("id", filter=Q(online=False)),
        pending=Count("id", filter=Q(registration_status=registration.PENDING)),
        rejected=Count("id", filter=Q(registration_status=registration.REJECTED)),
        faulted=Count("id", filter=_faulted_station()),
    )


def connector_counts():
    """Every connector in exactly one group: a connector of an offline station is "offline"
    whatever it last reported; "unknown" is an online one that has reported no status yet."""
    online = Q(station__online=True)
    groups = {name: Count("id", filter=online & Q(status__in=states))
              for name, states in CONNECTOR_GROUPS.items()}
    known = [state for states in CONNECTOR_GROUPS.values() for state in states]
    return _counts(
        Connector.objects.all(), total=Count("id"), **groups,
        offline=Count("id", filter=Q(station__online=False)),
        unknown=Count("id", filter=online & ~Q(status__in=known)),
    )


def attention():
    """Stations that need the operator, worst first: faulted, boot rejected, offline, pending."""
    registration = Station.RegistrationStatus
    stations = (
        Station.objects.annotate(has_faulted_connector=_has_faulted_connector())
        .filter(_faulted_station() | Q(registration_status=registration.REJECTED)
                | Q(online=False) | Q(registration_status=registration.PENDING))
        .annotate(priority=Case(
            When(_faulted_station(), then=Value(0)),
            When(registration_status=registration.REJECTED, then=Value(1)),
            When(online=False, then=Value(2)),
            default=Value(3), output_field=IntegerField()))
    )
    total = stations.count()
    rows = stations.annotate(faulted_connectors=Count(
        "connectors", filter=Q(connectors__status=FAULTED))).order_by(
        "priority", F("connection_changed_at").desc(nulls_last=True), "identity")[:ATTENTION_ROWS]
    return {"attention_total": total, "attention": [_attention_row(station) for station in rows]}


def operational_alerts():
    """Active alerts of the stations app (offline, faulted, rejected, silent, timeouts)."""
    active = Alert.objects.filter(state=Alert.State.ACTIVE)
    latest = active.select_related("station").order_by("-raised_at", "-id")[:ALERT_ROWS]
    return {"active": active.count(), "latest": [{
        "source": "station",
        "station": alert.station.identity,
        "title": alert.get_kind_display() + (f" {alert.subject}" if alert.subject else ""),
        "message": alert.message,
        "severity": None,
        "raised_at": alert.raised_at,
    } for alert in latest]}


def _attention_row(station):
    reasons = []
    if station.status == FAULTED:
        reasons.append("station faulted")
    if station.faulted_connectors:
        reasons.append(f"{station.faulted_connectors} connector"
                       f"{'s' if station.faulted_connectors > 1 else ''} faulted")
    if station.registration_status == Station.RegistrationStatus.REJECTED:
        reasons.append("boot rejected")
    if not station.online:
        reasons.append("offline" if station.connection_changed_at else "never connected")
    if station.registration_status == Station.RegistrationStatus.PENDING:
        reasons.append("registration pending")
    return {
        "identity": station.identity,
        "online": station.online,
        "registration_status": station.registration_status,
        "status": station.status,
        "faulted_connectors": station.faulted_connectors,
        "connection_changed_at": station.connection_changed_at,
        "last_message_at": station.last_message_at,
        "reasons": reasons,
    }
