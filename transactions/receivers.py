"""Applies stations' answers to reservations, remote starts and local lists as they arrive, and
marks transactions a reboot or an Available connector leaves behind."""
from django.dispatch import receiver

from csms.ocpp.signals import command_finished
from stations.signals import connector_status_changed, station_booted, station_connected
from stations.standing import asked_at_boot, asked_at_connect, asked_at_status_change, may_have

from . import actions, commands
from .actions import transaction_status
from .models import Transaction

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


@asked_at_connect("running_transactions")
@asked_at_boot("running_transactions")
@asked_at_status_change("running_transactions")
def _running_transactions(station_pk):
    return Transaction.objects.filter(station_id=station_pk, state=Transaction.State.ACTIVE)


@receiver(station_connected, dispatch_uid="transactions.ask_after_reconnect")
def ask_after_reconnect(sender, station_pk, ocpp_version, standing=None, **kwargs):
    if may_have(standing, "running_transactions"):
        commands.ask_after_reconnect(station_pk, ocpp_version)


@receiver(station_booted, dispatch_uid="transactions.station_rebooted")
def close_after_reboot(sender, station, ocpp_version, **kwargs):
    if may_have(station, "running_transactions"):
        actions.station_rebooted(station.pk, station.identity, ocpp_version, station.boot_reason)


@receiver(connector_status_changed, dispatch_uid="transactions.connector_available")
def close_on_available(sender, station_pk, evse_id, connector_id, status, status_at,
                       standing=None, **kwargs):
    if status == "Available" and may_have(standing, "running_transactions"):
        actions.connector_available(station_pk, evse_id, connector_id, status_at)
