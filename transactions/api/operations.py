"""Typed charging operations on one station, mounted on StationViewSet (start-transaction,
stop-transaction, unlock, change-availability, reserve, send-local-list)."""
from rest_framework import status
from rest_framework.exceptions import ValidationError

from csms.api.command_responses import command_response
from csms.api.errors import Conflict
from stations import commands as station_commands
from transactions import actions, commands
from transactions.models import IdToken

from .serializers import (
    ChangeAvailabilitySerializer, ReservationSerializer, ReserveSerializer,
    SendLocalListSerializer, StartTransactionSerializer, StopTransactionSerializer,
    UnlockSerializer,
)


def operate(build):
    """Run a typed operation, turning domain refusals into 4xx answers with a detail."""
    try:
        return build()
    except station_commands.StationNotReady as error:
        raise Conflict(str(error))
    except actions.InvalidRequest as error:
        raise ValidationError(str(error))


def source_of(request):
    return f"api:{request.user.username}"


def parse_body(serializer_class, request):
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


def _token(data, for_remote_start=False):
    return operate(lambda: commands.token_by_reference(data["id_token"], data.get("id_token_type"),
                                                       for_remote_start=for_remote_start))


# --- station-scoped typed operations (mounted on StationViewSet) -------------------------------

def start_transaction(request, station):
    data = parse_body(StartTransactionSerializer, request)
    token = _token(data, for_remote_start=True)
    command = operate(lambda: commands.start_transaction(
        station, token, data.get("evse_id"), source=source_of(request),
        charging_profile=data.get("charging_profile")))
    return command_response(request, command, data["wait"])


def stop_transaction(request, station):
    data = parse_body(StopTransactionSerializer, request)
    transaction_id = data.get("transaction_id") or commands.active_transaction(station).transaction_id
    command = operate(lambda: commands.stop_transaction(station, transaction_id,
                                                         source=source_of(request)))
    return command_response(request, command, data["wait"])


def unlock(request, station):
    data = parse_body(UnlockSerializer, request)
    command = operate(lambda: station_commands.unlock_connector(
        station, data["connector_id"], data.get("evse_id"), source=source_of(request)))
    return command_response(request, command, data["wait"])


def change_availability(request, station):
    data = parse_body(ChangeAvailabilitySerializer, request)
    command = operate(lambda: station_commands.change_availability(
        station, data["operational_status"], data.get("evse_id"), data.get("connector_id"),
        source=source_of(request)))
    return command_response(request, command, data["wait"])


def reserve(request, station):
    data = parse_body(ReserveSerializer, request)
    return reserve_with(request, station, data)


def reserve_with(request, station, data):
    token = _token(data)
    reservation, command = operate(lambda: commands.reserve(
        station, token, data["expires_at"], data.get("evse_id"), data.get("connector_type", ""),
        source=source_of(request)))
    response = command_response(request, command, data["wait"])
    if data["wait"]:
        actions.settle_command(command.pk)
        reservation.refresh_from_db()
    response.data = dict(response.data, reservation=ReservationSerializer(
        reservation, context={"request": request}).data)
    return response


def send_local_list(request, station):
    data = parse_body(SendLocalListSerializer, request)
    selection = None
    if "id_tokens" in data:
        tokens = IdToken.objects.filter(id_token__in=data["id_tokens"])
        missing = set(data["id_tokens"]) - set(tokens.values_list("id_token", flat=True))
        if missing:
            raise ValidationError(f"Unknown id tokens: {', '.join(sorted(missing))}")
        selection = sorted(tokens.values_list("pk", flat=True))
    command = operate(lambda: commands.send_local_list(
        station, data["update_type"], selection, source=source_of(request)))
    return settled_command_response(request, command, data["wait"])


def settled_command_response(request, command, wait):
    response = command_response(request, command, wait)
    if wait and response.status_code == status.HTTP_201_CREATED:
        actions.settle_command(command.pk)
    return response
