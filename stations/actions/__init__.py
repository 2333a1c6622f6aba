"""Every state change of stations, EVSEs and connectors, shared by handlers, API, pages and tasks."""
import logging
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from csms.models import StationPresence
from csms.ocpp import bridge, runtime

from .. import standing
from ..models import Connector, Evse, Station
from ..signals import connector_status_changed, station_booted

logger = logging.getLogger(__name__)
DASHBOARD_GROUP = "dashboard"
POLICY_TO_STATUS = {
    "accept": Station.RegistrationStatus.ACCEPTED,
    "pending": Station.RegistrationStatus.PENDING,
}


class RegistrationRefused(Exception):
    pass


def register_station(identity, password="", registration_policy=Station.RegistrationStatus.ACCEPTED,
                     description=""):
    station = Station(identity=identity, description=description,
                      registration_policy=registration_policy)
    station.full_clean(exclude=["password_hash"])
    station.set_password(password)
    station.save()
    return station


def register_unknown_station(identity):
    """Apply OCPP_UNKNOWN_STATION_POLICY to an identity seen for the first time."""
    policy = settings.OCPP_UNKNOWN_STATION_POLICY
    if policy not in POLICY_TO_STATUS:
        raise RegistrationRefused(identity)
    station, _ = Station.objects.get_or_create(
        identity=identity, defaults={"registration_policy": POLICY_TO_STATUS[policy]}
    )
    return station


def set_password(station, raw_password):
    station.set_password(raw_password)
    station.save(update_fields=["password_hash"])


def mark_connected(station_pk, ocpp_version, remote_address):
    now = timezone.now()
    Station.objects.filter(pk=station_pk).update(
        online=True, ocpp_version=ocpp_version, remote_address=remote_address[:64],
        connection_changed_at=now, last_message_at=now,
    )
    publish_station(station_pk)


def mark_disconnected(station_pk):
    Station.objects.filter(pk=station_pk).update(online=False, connection_changed_at=timezone.now())
    publish_station(station_pk)


def mark_many_disconnected(station_pks):
    Station.objects.filter(pk__in=station_pks).update(online=False,
                                                      connection_changed_at=timezone.now())
    for station_pk in station_pks:
        publish_station(station_pk)  # gathered into one push in the server


def mark_lost(identities):
    """Stations whose server process died holding their sockets: disconnected, unless one of
    them has connected again since (its new presence row is checked in the same UPDATE)."""
    held = StationPresence.objects.filter(identity=OuterRef("identity"))
    stations = Station.objects.filter(identity__in=identities, online=True).exclude(Exists(held))
    station_pks = list(stations.values_list("pk", flat=True))
    if not station_pks:
        return 0
    changed = stations.filter(pk__in=station_pks).update(
        online=False, connection_changed_at=timezone.now())
    transaction.on_commit(lambda: publish_stations(station_pks))
    logger.warning("%d station(s) marked disconnected: their server process stopped beating",
                   changed)
    return changed


def touch(station_pk):
    Station.objects.filter(pk=station_pk).update(last_message_at=timezone.now())


def record_boot(station_pk, charging_station, reason, ocpp_version=""):
    """Store what the station says of itself; return (status, interval) for the answer."""
    # With the answers of every app's question (stations/standing.py) for the receivers below.
    station = standing.station_at_boot(station_pk)
    first_boot = station.last_boot_at is None
    modem = charging_station.get("modem") or {}
    station.vendor_name = charging_station.get("vendorName", "")
    station.model = charging_station.get("model", "")
    station.serial_number = charging_station.get("serialNumber", "") or ""
    station.firmware_version = charging_station.get("firmwareVersion", "") or ""
    station.modem_iccid = modem.get("iccid", "") or ""
    station.modem_imsi = modem.get("imsi", "") or ""
    station.boot_reason = reason or ""
    station.last_boot_at = timezone.now()
    station.last_message_at = station.last_boot_at
    station.registration_status = station.registration_policy
    station.save()
    publish_station(station_pk)
    station_booted.send(sender=Station, station=station, ocpp_version=ocpp_version,
                        registration_status=station.registration_status, first_boot=first_boot)
    if station.registration_status == Station.RegistrationStatus.ACCEPTED:
        return station.registration_status, settings.OCPP_HEARTBEAT_INTERVAL
    return station.registration_status, settings.OCPP_BOOT_RETRY_INTERVAL


def set_registration_policy(station, registration_policy):
    station.registration_policy = registration_policy
    station.save(update_fields=["registration_policy"])
    publish_station(station.pk)


def record_connector_status(station_pk, evse_id, connector_id, status, timestamp=None,
                            error_code="", info="", vendor_error_code=""):
    """StatusNotification: learn the EVSE/connector if new and store its status.

    evse_id None means a 1.6 station (connectors only); connector_id 0 on 1.6 is the station.
    """
    status_at = _parse_time(timestamp)
    if evse_id is None and connector_id == 0:
        Station.objects.filter(pk=station_pk).update(status=status, error_code=error_code or "")
        publish_station(station_pk)
        return
    fields = {"status": status, "status_at": status_at, "error_code": error_code or "",
              "info": info or "", "vendor_error_code": vendor_error_code or ""}
    connector = Connector.objects.filter(station_id=station_pk, connector_id=connector_id)
    connector = (connector.filter(evse__isnull=True) if evse_id is None
                 else connector.filter(evse__evse_id=evse_id))
    # Statuses may arrive out of order after an offline period: keep the newest.
    not_older = Q()
    if status_at is not None:
        not_older = Q(status_at__isnull=True) | Q(status_at__lte=status_at)
    # The common case, a known connector, is one UPDATE.
    if connector.filter(not_older).update(updated_at=timezone.now(), **fields):
        publish_station(station_pk)
    elif connector.exists():
        return  # an older status replayed late
    else:
        with transaction.atomic():
            evse = None
            if evse_id is not None:
                evse, _ = Evse.objects.get_or_create(station_id=station_pk, evse_id=evse_id)
            Connector.objects.update_or_create(
                station_id=station_pk, evse=evse, connector_id=connector_id, defaults=fields
            )
        publish_station(station_pk)
    # Receivers skip their own query when the app's question was answered no.
    connector_status_changed.send(sender=Connector, station_pk=station_pk, evse_id=evse_id,
                                  connector_id=connector_id, status=status, status_at=status_at,
                                  standing=standing.answers_at_status_change(station_pk))


def _parse_time(value):
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt_timezone.utc)
    return parsed


def station_summary(station):
    connectors = [
        {"evse_id": c.evse.evse_id if c.evse_id else None, "connector_id": c.connector_id,
         "status": c.status, "error_code": c.error_code}
        for c in station.connectors.all()
    ]
    return {
        "identity": station.identity,
        "online": station.online,
        "ocpp_version": station.ocpp_version,
        "registration_status": station.registration_status,
        "status": station.status,
        "vendor_name": station.vendor_name,
        "model": station.model,
        "firmware_version": station.firmware_version,
        "connection_changed_at": _iso(station.connection_changed_at),
        "last_message_at": _iso(station.last_message_at),
        "connectors": connectors,
    }


def _iso(value):
    return value.isoformat() if value else None


def publish_station(station_pk):
    """Push a station's state to open dashboards (best effort: a missed push is not data lost).

    In the server process pushes are gathered for a moment: a connecting station changes five
    times in a few milliseconds (connect, boot, statuses) and dashboards need the last state."""
    if not runtime.coalesce(publish_stations, station_pk):
        publish_stations([station_pk])


def publish_stations(station_pks, chunk=200):
    station_pks = sorted(station_pks)
    # Chunks: the prefetch clones the whole IN (...) query once per station it fills.
    for start in range(0, len(station_pks), chunk):
        stations = Station.objects.prefetch_related("connectors__evse").filter(
            pk__in=station_pks[start:start + chunk])
        for station in stations:
            # Best effort, never raises: bridge logs an unreachable channel layer, rate-limited.
            if not bridge.group_send(DASHBOARD_GROUP, {"type": "station.update",
                                                       "station": station_summary(station)}):
                return
