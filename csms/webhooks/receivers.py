"""Domain signals turned into webhook events. Each receiver only registers the event for after
the commit (delivery.emit); building its data and every POST happen later, never in its way."""
import threading
from functools import partial

from django.db import connection, transaction as db_transaction
from django.dispatch import receiver

from csms.ocpp.signals import command_finished
from stations.models import Station
from stations.signals import (
    alert_changed, connector_status_changed, firmware_update_changed, log_request_changed,
    station_connected, station_disconnected,
)
from stations.standing import asked_at_connect, asked_at_status_change, may_have
from transactions.models import Transaction
from transactions.signals import meter_values_stored, transaction_changed

from . import tasks  # noqa: F401  (registers the tasks wherever Django is set up)
from .delivery import emit
from .models import WebhookSubscription

ALERT_EVENTS = {"raised": "alert.raised", "cleared": "alert.cleared"}
READING_FIELDS = ("timestamp", "measurand", "phase", "location", "context", "value", "base_unit")
_local = threading.local()


def _identity(station_pk):
    return Station.objects.filter(pk=station_pk).values_list("identity", flat=True).first()


@asked_at_connect("webhook_subscriptions")
@asked_at_status_change("webhook_subscriptions")
def _webhook_subscriptions(station_pk):
    return WebhookSubscription.objects.filter(active=True)  # whichever station


@receiver(station_connected, dispatch_uid="webhooks.station_online")
def _station_online(sender, station_pk, identity, ocpp_version, standing=None, **kwargs):
    if not may_have(standing, "webhook_subscriptions"):
        return
    emit("station.online", lambda: {"station": identity, "ocpp_version": ocpp_version})


@receiver(station_disconnected, dispatch_uid="webhooks.station_offline")
def _station_offline(sender, station_pk, identity, **kwargs):
    emit("station.offline", lambda: {"station": identity})


@receiver(connector_status_changed, dispatch_uid="webhooks.connector_status")
def _connector_status(sender, station_pk, evse_id, connector_id, status, status_at=None,
                      standing=None, **kwargs):
    if not may_have(standing, "webhook_subscriptions"):
        return
    emit("station.status_changed", lambda: {
        "station": _identity(station_pk), "evse_id": evse_id, "connector_id": connector_id,
        "status": status, "status_at": status_at})


@receiver(command_finished, dispatch_uid="webhooks.command_finished")
def _command_finished(sender, command, **kwargs):
    emit("command.finished", lambda: {
        "id": command.pk, "station": command.identity, "action": command.action,
        "status": command.status, "response": command.response,
        "error_code": command.error_code, "error_description": command.error_description,
        "source": command.source, "created_at": command.created_at,
        "finished_at": command.finished_at})


@receiver(firmware_update_changed, dispatch_uid="webhooks.firmware_progress")
def _firmware_progress(sender, update, **kwargs):
    emit("firmware.progress", lambda: {
        "id": update.pk, "station": update.station.identity, "request_id": update.request_id,
        "action": update.action, "status": update.status, "version": update.image.version,
        "version_confirmed": update.version_confirmed, "updated_at": update.updated_at})


@receiver(log_request_changed, dispatch_uid="webhooks.log_progress")
def _log_progress(sender, log_request_pk, **kwargs):
    def data():
        from stations.models import LogRequest

        log = LogRequest.objects.select_related("station").filter(pk=log_request_pk).first()
        return log and {
            "id": log.pk, "station": log.station.identity, "request_id": log.request_id,
            "kind": log.kind, "status": log.status, "station_status": log.station_status,
            "file_name": log.file_name, "size": log.size, "sha256": log.sha256,
            "uploaded_at": log.uploaded_at, "status_at": log.status_at}
    emit("log.progress", data)


@receiver(alert_changed, dispatch_uid="webhooks.alert")
def _alert(sender, alert, change, **kwargs):
    event_type = ALERT_EVENTS.get(change)
    if event_type is None:
        return
    emit(event_type, lambda: {
        "id": alert.pk, "station": alert.station.identity, "kind": alert.kind,
        "subject": alert.subject, "state": alert.state, "message": alert.message,
        "details": alert.details, "raised_at": alert.raised_at,
        "cleared_at": alert.cleared_at})


# --- transactions: one event per transaction and commit ------------------------------------------
# A TransactionEvent stores readings (meter_values_stored) before the derivation says it started
# or ended (transaction_changed); both arrive in one database transaction and make one event.

@receiver(transaction_changed, dispatch_uid="webhooks.transaction_changed")
def _transaction_changed(sender, transaction, **kwargs):
    _note_transaction(transaction, placement_changed=True)


@receiver(meter_values_stored, dispatch_uid="webhooks.meter_values")
def _meter_values(sender, transaction=None, rows=(), **kwargs):
    if transaction is not None:
        _note_transaction(transaction, readings=rows)


def _note_transaction(transaction, placement_changed=False, readings=()):
    pending = _local.__dict__.setdefault("transactions", {})
    entry = pending.get(transaction.pk)
    if entry is not None and not _awaits_commit(entry["callback"]):
        entry = None  # its database transaction was rolled back (and retried)
    if entry is None:
        entry = {"placement_changed": False, "readings": []}
        entry["callback"] = partial(_announce_transaction, transaction.pk, entry)
        pending[transaction.pk] = entry
    if placement_changed:
        entry["placement_changed"], entry["state"] = True, transaction.state
        entry["event_count"] = transaction.event_count
    entry["readings"].extend({name: row.get(name) for name in READING_FIELDS} for row in readings)
    if entry.get("registered"):
        return
    entry["registered"] = True
    db_transaction.on_commit(entry["callback"])  # outside a transaction: runs right here


def _awaits_commit(callback):
    return any(item[1] is callback for item in connection.run_on_commit)


def _announce_transaction(transaction_pk, entry):
    pending = _local.__dict__.get("transactions", {})
    if pending.get(transaction_pk) is entry:
        del pending[transaction_pk]
    event_type = "transaction.updated"
    if entry["placement_changed"]:
        if entry["state"] == Transaction.State.ENDED:
            event_type = "transaction.ended"
        elif entry["event_count"] <= 1:  # a later placement change is an EVSE named, no start
            event_type = "transaction.started"

    def data():
        transaction = Transaction.objects.select_related("station").filter(
            pk=transaction_pk).first()
        return transaction and {**transaction_data(transaction), "meter_values": entry["readings"]}
    emit(event_type, data)


def transaction_data(transaction):
    return {
        "id": transaction.pk, "station": transaction.station.identity,
        "transaction_id": transaction.transaction_id, "state": transaction.state,
        "evse_id": transaction.evse_id, "connector_id": transaction.connector_id,
        "id_token": transaction.id_token_value, "charging_state": transaction.charging_state,
        "started_at": transaction.started_at, "ended_at": transaction.ended_at,
        "stopped_reason": transaction.stopped_reason, "energy_wh": transaction.energy_wh,
        "meter_start_wh": transaction.meter_start_wh, "meter_stop_wh": transaction.meter_stop_wh,
        "total_cost": transaction.total_cost, "currency": transaction.currency,
    }
