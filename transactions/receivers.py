"""Applies stations' answers to reservations, remote starts and local lists as they arrive, and
marks transactions a reboot or an Available connector leaves behind."""
from django.dispatch import receiver

from csms.ocpp.signals import command_finished
from stations.signals import connector_status_changed, station_booted, station_connected

from . import actions, commands
from .actions import transaction_status

# Calls whose answer a row of this app waits for (Reservation, RemoteStart, LocalListUpdate).
ANSWERED_ACTIONS = {
    "ReserveNow", "CancelReservation", "RequestStartTransaction", "RemoteStartTransaction",
    "SendLocalList", "GetLocalListVersion",
}


@receiver(command_finished, dispatch_uid="transactions.apply_station_answer")
def apply_station_answer(sender, command, **kwargs):
    if command.action in ANSWERED_ACTIONS:
        actions.settle_command(command.pk)


@receiver(command_finished, dispatch_uid="transactions.transaction_status_answer")
def apply_transaction_status(sender, command, **kwargs):
    if command.action == "GetTransactionStatus":
        transaction_status.settle_command(command)


@receiver(station_connected, dispatch_uid="transactions.ask_after_reconnect")
def ask_after_reconnect(sender, station_pk, ocpp_version, **kwargs):
    commands.ask_after_reconnect(station_pk, ocpp_version)


@receiver(station_booted, dispatch_uid="transactions.station_rebooted")
def close_after_reboot(sender, station, ocpp_version, **kwargs):
    actions.station_rebooted(station.pk, station.identity, ocpp_version, station.boot_reason)


@receiver(connector_status_changed, dispatch_uid="transactions.connector_available")
def close_on_available(sender, station_pk, evse_id, connector_id, status, status_at, **kwargs):
    if status == "Available":
        actions.connector_available(station_pk, evse_id, connector_id, status_at)
