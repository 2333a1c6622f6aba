"""DataTransfer exchanges recorded in both directions: one insert per station transfer (it runs on
the station's database thread), and outbound transfers settled by their command's outcome."""
from django.utils import timezone

from csms.models import Command

from ..models import DataTransferExchange

Direction = DataTransferExchange.Direction


def record_inbound(station_pk, payload, answer):
    """A station's DataTransfer and the answer it got, in one insert."""
    return DataTransferExchange.objects.create(
        station_id=station_pk, direction=Direction.INBOUND, vendor_id=payload["vendorId"],
        message_id=payload.get("messageId", ""), data=payload.get("data"),
        status=answer.get("status", ""), answer_data=answer.get("data"),
        answered_at=timezone.now(),
    )


def create_outbound(station, vendor_id, message_id, data, source=""):
    return DataTransferExchange.objects.create(
        station=station, direction=Direction.OUTBOUND, vendor_id=vendor_id,
        message_id=message_id or "", data=data, source=source[:100],
    )


def attach_command(exchange, command):
    exchange.command = command
    exchange.save(update_fields=["command"])


def _result(command):
    """(status, answer data) of a finished DataTransfer command: the station's own status when it
    answered, else what became of the call (offline, timeout, error)."""
    response = command.response if isinstance(command.response, dict) else {}
    if command.status in (Command.Status.ACCEPTED, Command.Status.REJECTED) and response:
        return response.get("status", command.status), response.get("data")
    return command.status, None


def settle_command(command):
    """Apply a finished DataTransfer command to its exchange. A DataTransfer sent as a generic
    command has no exchange yet: it gets one, so every transfer shows on the station page.
    Idempotent; returns the exchange or None (station unknown)."""
    if not command.is_finished:
        return None
    status, answer_data = _result(command)
    updated = DataTransferExchange.objects.filter(command=command, status="").update(
        status=status[:20], answer_data=answer_data, answered_at=command.finished_at)
    exchange = DataTransferExchange.objects.filter(command=command).first()
    if exchange is not None or updated:
        return exchange
    from ..models import Station

    station = Station.objects.filter(identity=command.identity).only("pk").first()
    if station is None:
        return None
    payload = command.payload or {}
    return DataTransferExchange.objects.create(
        station=station, direction=Direction.OUTBOUND, vendor_id=payload.get("vendorId", ""),
        message_id=payload.get("messageId", ""), data=payload.get("data"), status=status[:20],
        answer_data=answer_data, command=command, source=command.source[:100],
        answered_at=command.finished_at,
    )


def exchanges_of(station, direction=None):
    exchanges = DataTransferExchange.objects.filter(station=station).select_related("command")
    return exchanges.filter(direction=direction) if direction else exchanges



def settle_finished():
    """The sweep: outbound exchanges whose command has its outcome but which a failed receiver
    left waiting. Returns how many it settled."""
    waiting = (DataTransferExchange.objects.filter(status="", command__status__in=Command.FINISHED)
               .select_related("command"))
    settled = 0
    for exchange in waiting[:1000]:
        settle_command(exchange.command)
        settled += 1
    return settled
