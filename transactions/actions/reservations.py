"""Reservations: creation, the station's answers, status updates and expiry."""
from django.db import transaction as db_transaction
from django.utils import timezone

from ..live_panels import panel_changed
from ..models import Reservation
from .common import InvalidRequest

PANEL = "reservations"


def create_reservation(station, id_token, expires_at, evse_id=None, connector_type=""):
    if expires_at <= timezone.now():
        raise InvalidRequest("expires_at must be in the future.")
    return Reservation.objects.create(station=station, id_token=id_token, expires_at=expires_at,
                                      evse_id=evse_id, connector_type=connector_type or "")


def attach_command(row, command, field="command"):
    setattr(row, field, command)
    row.settled = False
    row.save(update_fields=[field, "settled"])


RESERVE_ANSWERS = {"Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"}


def settle_reservation(reservation):
    """Apply the answer to its last command (ReserveNow or CancelReservation) once it came."""
    with db_transaction.atomic():
        reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if reservation.settled:
            return reservation
        cancelling = reservation.cancel_command_id is not None
        command = reservation.cancel_command if cancelling else reservation.command
        if command is not None and not command.is_finished:
            return reservation
        answer = (command.response or {}).get("status") if command else None
        if cancelling:
            if answer == "Accepted" and reservation.status in Reservation.OPEN:
                reservation.status = Reservation.Status.CANCELLED
        elif reservation.status == Reservation.Status.PENDING:
            if answer in RESERVE_ANSWERS:
                reservation.status = answer
            else:
                reservation.status = Reservation.Status.FAILED
        reservation.settled = True
        reservation.save(update_fields=["status", "settled", "updated_at"])
        panel_changed(reservation.station_id, PANEL)
    return reservation


def reservation_status_update(station_pk, reservation_id, update_status):
    """ReservationStatusUpdate (2.0.1): the station ended a reservation (Expired or Removed)."""
    new_status = {"Expired": Reservation.Status.EXPIRED,
                  "Removed": Reservation.Status.REMOVED}[update_status]
    if Reservation.objects.filter(
        pk=reservation_id, station_id=station_pk,
        status__in=[Reservation.Status.PENDING, Reservation.Status.ACCEPTED],
    ).update(status=new_status, updated_at=timezone.now()):
        panel_changed(station_pk, PANEL)


def expire_reservations(now=None):
    """The CSMS ends open reservations past their expiry itself, whatever the station says."""
    due = Reservation.objects.filter(
        status__in=[Reservation.Status.PENDING, Reservation.Status.ACCEPTED],
        expires_at__lte=now or timezone.now(),
    )
    stations = set(due.values_list("station_id", flat=True))
    expired = due.update(status=Reservation.Status.EXPIRED, updated_at=timezone.now())
    for station_pk in stations:
        panel_changed(station_pk, PANEL)
    return expired


