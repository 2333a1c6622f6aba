"""Outgoing calls (CSMS -> station): the persisted queue, delivery and outcomes.

The database holds the queue; a nudge over the channel layer tells the holding consumer to claim
from it, so a lost nudge delays (the sweep nudges again) and a duplicate one doubles nothing.
"""
import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from csms import metrics
from csms.celery import app as celery_app
from csms.models import Command

from . import bridge, lifecycle, presence, schemas
from .framing import OCPP16, OCPP201
from .signals import command_finished, command_sent

logger = logging.getLogger(__name__)
Status = Command.Status

# Answer statuses meaning the station took the request on (Scheduled: it will act later).
ACCEPTING_STATUSES = {"Accepted", "Scheduled", "AcceptedCanceled", "RebootRequired", "Unlocked"}


class InvalidCommand(ValueError):
    """The requested call cannot be sent as asked: unknown action or schema errors."""

    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


# BRIEF §9: what stations send; every other action with a schema is CSMS -> station
# (DataTransfer goes both ways).
STATION_ACTIONS = {
    OCPP201: {
        "Authorize", "BootNotification", "ClearedChargingLimit", "FirmwareStatusNotification",
        "Get15118EVCertificate", "GetCertificateStatus", "Heartbeat", "LogStatusNotification",
        "MeterValues", "NotifyChargingLimit", "NotifyCustomerInformation", "NotifyDisplayMessages",
        "NotifyEVChargingNeeds", "NotifyEVChargingSchedule", "NotifyEvent",
        "NotifyMonitoringReport", "NotifyReport", "PublishFirmwareStatusNotification",
        "ReportChargingProfiles", "ReservationStatusUpdate", "SecurityEventNotification",
        "SignCertificate", "StatusNotification", "TransactionEvent",
    },
    OCPP16: {
        "Authorize", "BootNotification", "DiagnosticsStatusNotification",
        "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
        "StatusNotification", "StopTransaction", "SecurityEventNotification", "SignCertificate",
        "LogStatusNotification", "SignedFirmwareStatusNotification",
    },
}


def outgoing_actions(ocpp_version):
    return sorted(schemas.actions(ocpp_version) - STATION_ACTIONS[ocpp_version])


def check_request(ocpp_version, action, payload):
    """Raise InvalidCommand unless `action` is a CSMS -> station call with a valid payload."""
    if ocpp_version not in STATION_ACTIONS:
        raise InvalidCommand([f"Unknown OCPP version {ocpp_version!r}"])
    if action not in schemas.actions(ocpp_version):
        raise InvalidCommand([f"OCPP {ocpp_version} has no action {action!r}"])
    if action not in outgoing_actions(ocpp_version):
        raise InvalidCommand([f"{action} is sent by stations, not by the CSMS"])
    if not isinstance(payload, dict):
        raise InvalidCommand(["payload must be a JSON object"])
    errors = schemas.describe_errors(ocpp_version, action, schemas.REQUEST, payload)
    if errors:
        raise InvalidCommand(errors)


def send_call(identity, ocpp_version, action, payload, source=""):
    """Validate, persist and dispatch one call; returns the Command (queued, or offline at once)."""
    check_request(ocpp_version, action, payload)
    holder = presence.lookup(identity)
    if holder is None:
        # Nobody holds the station's socket: say so now rather than after a worker round trip.
        command = Command.objects.create(
            identity=identity, ocpp_version=ocpp_version, action=action, payload=payload,
            source=source, status=Status.OFFLINE, finished_at=timezone.now(),
            error_description="Station is not connected",
        )
        metrics.command_finished(Status.OFFLINE)
        transaction.on_commit(lambda: announce([command.pk]))
        return command
    command = Command.objects.create(
        identity=identity, ocpp_version=ocpp_version, action=action, payload=payload, source=source,
    )
    # The consumer claims from the database: the nudge may only go once the row is visible.
    # Committed at once (no enclosing transaction), the holder just read is still current; inside
    # one (bulk work, receivers) it is read again after the commit.
    if transaction.get_connection().in_atomic_block:
        holder = None
    # robust: the command is committed whatever happens here; the sweep nudges it if this fails.
    transaction.on_commit(lambda: deliver(command, holder), robust=True)
    return command


# The Celery task that retries a nudge the caller could not send; named, not imported, so this
# module stays below csms.tasks (which wraps dispatch under this name).
DELIVERY_TASK = "csms.tasks.deliver_command"


def deliver(command, holder=None):
    """Nudge the holder of a just-committed command from the caller's own process; when the
    channel layer cannot be reached, hand the retries to a worker (the sweep nudges again too).
    Refreshes `command` when delivery ended it (offline, other OCPP version)."""
    try:
        if _nudge_holder(command, holder):
            command.refresh_from_db()
    except bridge.ChannelLayerUnavailable as error:
        bridge.warn_unavailable("command nudge left to a worker (channel layer unreachable)", error)
        request_delivery(command.pk)


def request_delivery(command_id):
    """Queue the retrying delivery task; with the broker down too the command stays queued (it is
    committed) and the sweep delivers it once Redis is back, so the caller never fails for it."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # no worker to retry on: the sweep nudges again
    try:
        celery_app.send_task(DELIVERY_TASK, args=[command_id])
    except Exception as error:
        bridge.warn_unavailable("command delivery left to the sweep (broker unreachable?)", error)


def dispatch(command_id):
    """Nudge the consumer holding the station's socket unless the command no longer waits for
    one; offline at once when nobody holds it. Raises bridge.ChannelLayerUnavailable when the
    nudge could not be sent."""
    command = Command.objects.filter(pk=command_id).first()
    if command is None or command.status != Status.QUEUED:
        return
    if _expired(command):
        _expire(command.pk)
        return
    _nudge_holder(command)


def _nudge_holder(command, holder=None):
    """Send the nudge to whoever holds the station (`holder` when the caller has just read it);
    True when the command was ended instead (nobody holds it, or it speaks another version)."""
    if holder is None:
        holder = presence.lookup(command.identity)
    if holder is None:
        return bool(finish(command.pk, Status.OFFLINE, error_description="Station is not connected",
                           only_if=(Status.QUEUED,)))
    if holder.ocpp_version != command.ocpp_version:
        return bool(_mismatch(command.pk, holder.ocpp_version))
    # A full channel already holds nudges for this consumer; the row stays queued and is claimed
    # when the current call finishes.
    bridge.send(holder.channel_name, {"type": "ocpp.command_ready"})
    return False


def _mismatch(command_id, ocpp_version):
    return finish(command_id, Status.ERROR, error_code="VersionMismatch",
                  error_description=f"Station now speaks OCPP {ocpp_version}",
                  only_if=(Status.QUEUED,))


def _queue_cutoff():
    return timezone.now() - timedelta(seconds=settings.OCPP_COMMAND_QUEUE_EXPIRY)


def _expired(command):
    return command.created_at < _queue_cutoff()


def _expire(command_id):
    # Issue 14: a command acted on long after it was asked for (a late Reset) is worse than none.
    return finish(command_id, Status.TIMEOUT, only_if=(Status.QUEUED,),
                  error_description=f"Not delivered within {settings.OCPP_COMMAND_QUEUE_EXPIRY:g} s")


def claim_next(identity, connection_id, ocpp_version=None):
    """Mark the oldest queued command of a station as sent by this connection and return it.
    Commands past their queue expiry, or made for another OCPP version, are ended instead."""
    if ocpp_version is None:
        ocpp_version = _held_version(identity, connection_id)
    while True:
        command = (
            Command.objects.filter(identity=identity, status=Status.QUEUED).order_by("id").first()
        )
        if command is None:
            return None
        if _expired(command):
            _expire(command.pk)
            continue
        if ocpp_version and command.ocpp_version != ocpp_version:
            _mismatch(command.pk, ocpp_version)
            continue
        message_id = str(uuid.uuid4())
        now = timezone.now()
        claimed = Command.objects.filter(pk=command.pk, status=Status.QUEUED).update(
            status=Status.SENT, message_id=message_id, connection_id=connection_id, sent_at=now,
        )
        if claimed:
            command.status, command.message_id, command.sent_at = Status.SENT, message_id, now
            command.connection_id = connection_id
            if command_sent.has_listeners(Command):
                command_sent.send_robust(sender=Command, command=command)
            return command


def _held_version(identity, connection_id):
    session = presence.held(identity)
    if session is not None and session.connection_id == connection_id:
        return session.ocpp_version
    return None


def finish(command_id, status, response=None, error_code="", error_description="",
           only_if=(Status.SENT,)):
    """Write a command's outcome, unless it already has one."""
    updated = Command.objects.filter(pk=command_id, status__in=only_if).update(
        status=status, response=response, error_code=error_code,
        error_description=error_description, finished_at=timezone.now(),
    )
    if updated:
        metrics.command_finished(status)
        announce([command_id])
    return updated


def announce(command_ids):
    """Send command_finished for each of these (now finished) commands."""
    if not command_ids or not command_finished.has_listeners(Command):
        return
    for command in Command.objects.filter(pk__in=command_ids).order_by("id"):
        for receiver, result in command_finished.send_robust(sender=Command, command=command):
            if isinstance(result, Exception):
                logger.error("%s failed for command %s", receiver, command.pk, exc_info=result)


def _finish_many(queryset, status, error_description):
    """Give every command of `queryset` the same outcome, one by one so each is announced once."""
    return sum(
        finish(pk, status, error_description=error_description, only_if=(Status.QUEUED, Status.SENT))
        for pk in list(queryset.values_list("pk", flat=True))
    )


def status_of_answer(payload):
    answer_status = payload.get("status")
    if answer_status is None or answer_status in ACCEPTING_STATUSES:
        return Status.ACCEPTED
    return Status.REJECTED


def mark_offline(identity):
    """The station's socket closed: nothing queued for it can be delivered now."""
    return _finish_many(
        Command.objects.filter(identity=identity, status=Status.QUEUED), Status.OFFLINE,
        "Station disconnected before the call was sent",
    )


def mark_many_offline(identities):
    """mark_offline() for stations whose sockets closed at once: one query finds their queued
    commands (rarely any)."""
    if not identities:
        return 0
    return _finish_many(
        Command.objects.filter(identity__in=list(identities), status=Status.QUEUED),
        Status.OFFLINE, "Station disconnected before the call was sent",
    )


def sweep():
    """Settle what no live consumer will settle, and nudge what may have been missed."""
    with transaction.atomic():
        lost = presence.forget_dead_servers()
        if lost:
            # Their server died with the sockets: the stations are disconnected.
            lifecycle.directory().lost(lost)
    expired = _finish_many(
        Command.objects.filter(status=Status.QUEUED, created_at__lt=_queue_cutoff()),
        Status.TIMEOUT, f"Not delivered within {settings.OCPP_COMMAND_QUEUE_EXPIRY:g} s",
    )
    queued_identities = set(
        Command.objects.filter(status=Status.QUEUED).values_list("identity", flat=True).distinct()
    )
    offline = queued_identities - presence.live_identities(queued_identities)
    for identity in offline:
        mark_offline(identity)
    nudged = redispatch()
    grace = timedelta(seconds=settings.OCPP_CALL_TIMEOUT + settings.OCPP_SERVER_DEAD_SECONDS)
    timed_out = _finish_many(
        Command.objects.filter(status=Status.SENT, sent_at__lt=timezone.now() - grace),
        Status.TIMEOUT, SWEEP_TIMEOUT_DESCRIPTION,
    )
    return {"lost_stations": len(lost), "expired": expired, "offline_stations": len(offline),
            "nudged_stations": nudged, "timed_out": timed_out}


SWEEP_TIMEOUT_DESCRIPTION = "No answer (the connection or process was lost)"
# A command normally leaves the queue within milliseconds; one older than this may have lost its
# nudge (Redis or the broker was down) or waits behind an unanswered call: nudging again is free.
REDISPATCH_AFTER_SECONDS = 5
REDISPATCH_LIMIT = 2000


def redispatch():
    """Nudge again the holders of stations whose oldest queued command has waited a while;
    returns how many were nudged. A nudge that cannot be sent is left to the next sweep."""
    cutoff = timezone.now() - timedelta(seconds=REDISPATCH_AFTER_SECONDS)
    oldest = (Command.objects.filter(status=Status.QUEUED, created_at__lt=cutoff)
              .values("identity").annotate(first=Min("pk")).order_by("first")
              .values_list("first", flat=True)[:REDISPATCH_LIMIT])
    nudged = 0
    for pk in list(oldest):
        try:
            dispatch(pk)
        except bridge.ChannelLayerUnavailable as error:
            bridge.warn_unavailable("command re-delivery not sent (channel layer unreachable)", error)
            break  # the layer is down for everyone: the next sweep tries again
        nudged += 1
    return nudged


def wait_for_outcome(command, timeout):
    """Poll until the command has an outcome or `timeout` seconds pass; returns it refreshed."""
    deadline = time.monotonic() + min(timeout, settings.OCPP_COMMAND_MAX_WAIT)
    delay = 0.01
    while True:
        command.refresh_from_db()
        if command.is_finished or time.monotonic() >= deadline:
            return command
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)
