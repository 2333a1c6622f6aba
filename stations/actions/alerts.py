"""Operational alerts: raised, updated, cleared and acknowledged here only, each change announced
(alert_changed + a live "alert" event) once committed. Events raise and clear them at once; the
beat's `check_alerts` handles the time-based kinds with set-based queries."""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from csms.models import Command
from csms.ocpp.signals import command_finished

from .. import live
from ..models import Alert, Connector, Station
from ..signals import alert_changed, connector_status_changed, station_booted, station_connected
from ..standing import asked_at_boot, asked_at_connect, asked_at_status_change, may_have

logger = logging.getLogger(__name__)
Kind, State = Alert.Kind, Alert.State
# Outcomes that say nothing of whether the station answers: not counted, not clearing.
NOT_AN_ANSWER = {"ConnectionClosed", "NotSent", "VersionMismatch"}
# Periodic checks other apps add (transactions: silent transactions), each fn(now) -> None.
_periodic_checks = []


def register_periodic_check(check):
    """Run `check(now)` on every beat pass of check_alerts (apps that stations may not import)."""
    if check not in _periodic_checks:
        _periodic_checks.append(check)
    return check


def connector_subject(evse_id, connector_id):
    return f"{'' if evse_id is None else evse_id}/{connector_id}"


def alert_summary(alert):
    return {
        "id": alert.pk, "kind": alert.kind, "kind_display": alert.get_kind_display(),
        "station": alert.station.identity, "subject": alert.subject, "state": alert.state,
        "message": alert.message, "details": alert.details, "raise_count": alert.raise_count,
        "raised_at": _iso(alert.raised_at), "updated_at": _iso(alert.updated_at),
        "cleared_at": _iso(alert.cleared_at), "acknowledged_at": _iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
    }


def _iso(value):
    return value.isoformat() if value else None


def _announce(alert_pks, change):
    """After commit: tell subscribers (webhooks) and open dashboards, alert by alert."""
    def send():
        for alert in Alert.objects.select_related("station").filter(pk__in=alert_pks):
            for receiver, result in alert_changed.send_robust(sender=Alert, alert=alert,
                                                              change=change):
                if isinstance(result, Exception):
                    logger.error("%s failed for alert %s", receiver, alert.pk, exc_info=result)
            live.publish("alert", {"alert": alert_summary(alert), "change": change},
                         station=alert.station.identity)
    if alert_pks:
        transaction.on_commit(send)


def raise_alert(kind, station_pk, subject="", message="", details=None, now=None):
    """Raise an alert, or update the active one of (kind, station, subject). Returns it."""
    now = now or timezone.now()
    fields = {"message": message[:300], "details": details or {}, "updated_at": now}
    with transaction.atomic():
        active = Alert.objects.filter(kind=kind, station_id=station_pk, subject=subject,
                                      state=State.ACTIVE)
        if active.update(raise_count=F("raise_count") + 1, **fields):
            alert, change = active.get(), "updated"
        else:
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(kind=kind, station_id=station_pk,
                                                 subject=subject, raised_at=now, **fields)
                change = "raised"
            except IntegrityError:  # raised meanwhile by another process: update that one
                active.update(raise_count=F("raise_count") + 1, **fields)
                alert, change = active.get(), "updated"
        _announce([alert.pk], change)
    return alert


def clear_alerts(alerts, now=None):
    """Clear the active alerts among `alerts` (a queryset); returns how many."""
    pks = list(alerts.filter(state=State.ACTIVE).values_list("pk", flat=True))
    if not pks:
        return 0
    with transaction.atomic():
        cleared = Alert.objects.filter(pk__in=pks, state=State.ACTIVE).update(
            state=State.CLEARED, cleared_at=now or timezone.now())
        _announce(pks, "cleared")
    return cleared


def clear_alert(kind, station_pk, subject=""):
    return clear_alerts(Alert.objects.filter(kind=kind, station_id=station_pk, subject=subject))


def acknowledge(alert, username):
    """Mark an alert seen by an operator (once: a second acknowledgement keeps the first)."""
    if alert.acknowledged_at is None:
        with transaction.atomic():
            if Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
                    acknowledged_at=timezone.now(), acknowledged_by=username[:150]):
                _announce([alert.pk], "acknowledged")
        alert.refresh_from_db()
    return alert


# --- event-driven kinds ------------------------------------------------------------------------

def _active(kind, station_pk):
    return Alert.objects.filter(kind=kind, station_id=station_pk, subject="", state=State.ACTIVE)


asked_at_connect("offline_alert")(lambda station_pk: _active(Kind.STATION_OFFLINE, station_pk))
asked_at_boot("boot_rejected_alert")(lambda station_pk: _active(Kind.BOOT_REJECTED, station_pk))
asked_at_status_change("connector_faulted_alert")(lambda station_pk: Alert.objects.filter(
    kind=Kind.CONNECTOR_FAULTED, station_id=station_pk, state=State.ACTIVE))  # any connector


def on_station_connected(sender, station_pk, standing=None, **kwargs):
    if may_have(standing, "offline_alert"):
        clear_alert(Kind.STATION_OFFLINE, station_pk)


def on_station_booted(sender, station, registration_status, **kwargs):
    if registration_status == Station.RegistrationStatus.REJECTED:
        reason = station.boot_reason or "no reason"
        raise_alert(Kind.BOOT_REJECTED, station.pk,
                    message=f"BootNotification answered Rejected ({reason})",
                    details={"boot_reason": station.boot_reason,
                             "firmware_version": station.firmware_version})
    elif (registration_status == Station.RegistrationStatus.ACCEPTED
          and may_have(station, "boot_rejected_alert")):
        clear_alert(Kind.BOOT_REJECTED, station.pk)


def on_connector_status_changed(sender, station_pk, evse_id, connector_id, status, standing=None,
                                **kwargs):
    subject = connector_subject(evse_id, connector_id)
    if status != "Faulted":
        if may_have(standing, "connector_faulted_alert"):
            clear_alert(Kind.CONNECTOR_FAULTED, station_pk, subject)
        return
    connector = Connector.objects.filter(station_id=station_pk, connector_id=connector_id)
    connector = (connector.filter(evse__isnull=True) if evse_id is None
                 else connector.filter(evse__evse_id=evse_id))
    error = connector.values("error_code", "info", "vendor_error_code").first() or {}
    where = f"EVSE {evse_id} connector {connector_id}" if evse_id is not None \
        else f"connector {connector_id}"
    raise_alert(Kind.CONNECTOR_FAULTED, station_pk, subject,
                message=f"{where} Faulted" + (f": {error['error_code']}"
                                              if error.get("error_code") else ""),
                details={"evse_id": evse_id, "connector_id": connector_id, **error})


def _answered(command):
    return command.status in (Command.Status.ACCEPTED, Command.Status.REJECTED) or (
        command.status == Command.Status.ERROR and command.error_code not in NOT_AN_ANSWER)


def on_command_finished(sender, command, **kwargs):
    """N timeouts in a row raise (and update) the station's alert; an answer clears it."""
    if command.status == Command.Status.TIMEOUT:
        in_a_row = settings.ALERT_COMMAND_TIMEOUTS_IN_A_ROW
        recent = list(Command.objects.filter(
            identity=command.identity, finished_at__isnull=False,
            status__in=[Command.Status.TIMEOUT, Command.Status.ACCEPTED, Command.Status.REJECTED,
                        Command.Status.ERROR],
        ).exclude(error_code__in=NOT_AN_ANSWER).order_by("-id")
            .values_list("status", "action")[:in_a_row])
        if len(recent) < in_a_row or any(status != Command.Status.TIMEOUT for status, _ in recent):
            return
        station_pk = Station.objects.filter(identity=command.identity).values_list(
            "pk", flat=True).first()
        if station_pk is not None:
            raise_alert(Kind.COMMAND_TIMEOUTS, station_pk,
                        message=f"{in_a_row}+ commands in a row got no answer "
                                f"(last: {command.action})",
                        details={"last_action": command.action, "last_command": command.pk,
                                 "timeouts_in_a_row": in_a_row})
    elif _answered(command):
        clear_alerts(Alert.objects.filter(kind=Kind.COMMAND_TIMEOUTS,
                                          station__identity=command.identity))


station_connected.connect(on_station_connected, dispatch_uid="alerts-station-connected")
station_booted.connect(on_station_booted, dispatch_uid="alerts-station-booted")
connector_status_changed.connect(on_connector_status_changed,
                                 dispatch_uid="alerts-connector-status")
command_finished.connect(on_command_finished, dispatch_uid="alerts-command-finished")


# --- time-based kinds (the beat) ---------------------------------------------------------------

def check_alerts(now=None):
    """The beat's pass: offline stations past the threshold raised, back ones cleared; then the
    checks other apps registered. A few set-based queries, whatever the number of stations."""
    now = now or timezone.now()
    check_offline_stations(now)
    for check in list(_periodic_checks):
        try:
            check(now)
        except Exception:
            logger.exception("alert check %s failed", getattr(check, "__name__", check))


def check_offline_stations(now):
    threshold = settings.ALERT_STATION_OFFLINE_SECONDS
    # Back online without a new socket seen here (a stalled server restored its sessions).
    clear_alerts(Alert.objects.filter(kind=Kind.STATION_OFFLINE, state=State.ACTIVE,
                                      station__online=True), now)
    if not threshold:
        return 0
    already = Alert.objects.filter(kind=Kind.STATION_OFFLINE, state=State.ACTIVE,
                                   station=OuterRef("pk"))
    offline = list(Station.objects.filter(
        online=False, connection_changed_at__lt=now - timedelta(seconds=threshold),
    ).exclude(Exists(already)).values_list("pk", "connection_changed_at"))
    return raise_new(Kind.STATION_OFFLINE, [
        (pk, "", f"Offline since {since:%Y-%m-%d %H:%M:%S} UTC",
         {"offline_since": since.isoformat()}) for pk, since in offline], now)


def raise_new(kind, items, now):
    """Raise many alerts of one kind at once: items of (station_pk, subject, message, details)
    that have no active alert (a beat's pass). Returns how many were raised."""
    if not items:
        return 0
    with transaction.atomic():
        # A concurrent pass may have raised some meanwhile: the constraint keeps one of each.
        Alert.objects.bulk_create([
            Alert(kind=kind, station_id=station_pk, subject=subject, raised_at=now,
                  updated_at=now, message=message[:300], details=details)
            for station_pk, subject, message, details in items
        ], ignore_conflicts=True, batch_size=500)
        raised = list(Alert.objects.filter(kind=kind, state=State.ACTIVE, raised_at=now)
                      .values_list("pk", flat=True))
        _announce(raised, "raised")
    return len(raised)
