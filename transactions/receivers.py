"""Applies stations' answers to reservations, remote starts and local lists as they arrive."""
from django.dispatch import receiver

from csms.ocpp.signals import command_finished

from . import actions

# Calls whose answer a row of this app waits for (Reservation, RemoteStart, LocalListUpdate).
ANSWERED_ACTIONS = {
    "ReserveNow", "CancelReservation", "RequestStartTransaction", "RemoteStartTransaction",
    "SendLocalList", "GetLocalListVersion",
}


@receiver(command_finished, dispatch_uid="transactions.apply_station_answer")
def apply_station_answer(sender, command, **kwargs):
    if command.action in ANSWERED_ACTIONS:
        actions.settle_command(command.pk)
