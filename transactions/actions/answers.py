"""Applying stations' answers to the rows that wait on them, as they come and by sweep."""
from django.db.models import Q

from csms.models import Command

from ..models import LocalListUpdate, RemoteStart, Reservation
from .local_lists import settle_local_list_update
from .remote_starts import settle_remote_start
from .reservations import settle_reservation


def settle_command(command_id):
    """Apply the station's answer to whatever row waits on this command."""
    waiting = Q(command_id=command_id) | Q(cancel_command_id=command_id)
    for reservation in Reservation.objects.filter(waiting, settled=False):
        settle_reservation(reservation)
    for remote_start in RemoteStart.objects.filter(settled=False, command_id=command_id):
        settle_remote_start(remote_start)
    for update in LocalListUpdate.objects.filter(settled=False, command_id=command_id):
        settle_local_list_update(update)


def settle_finished():
    """Sweep: apply every answer that came since the last sweep (the embedded default's way of
    reacting to answers without a worker blocking on them)."""
    finished = list(Command.FINISHED)
    settled = 0
    waiting = Reservation.objects.filter(settled=False).filter(
        Q(cancel_command__status__in=finished)
        | Q(cancel_command__isnull=True, command__status__in=finished))
    for reservation in waiting:
        settle_reservation(reservation)
        settled += 1
    for remote_start in RemoteStart.objects.filter(settled=False, command__status__in=finished):
        settle_remote_start(remote_start)
        settled += 1
    for update in LocalListUpdate.objects.filter(settled=False, command__status__in=finished):
        settle_local_list_update(update)
        settled += 1
    return settled


