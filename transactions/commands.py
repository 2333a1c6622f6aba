"""CSMS -> station charging operations, built for the station's OCPP version: remote start and
stop, reservations, local lists, cost updates. Answers are applied by receivers.py."""
from django.db import transaction as db_transaction

from csms.ocpp import outbound
from csms.ocpp.framing import OCPP201
from stations.commands import StationNotReady, _version

from . import actions
from .actions import transaction_status
from .models import IdToken, Reservation, Transaction, TransactionStatusRequest

__all__ = ["StationNotReady", "start_transaction", "stop_transaction", "reserve", "cancel_reservation",
           "send_local_list", "get_local_list_version", "clear_cache", "cost_updated",
           "get_transaction_status", "ask_after_reconnect"]


def _id_token_201(token):
    return {"idToken": token.id_token, "type": token.type}


def _id_tag(token):
    if len(token.id_token) > 20:
        raise outbound.InvalidCommand([f"{token.id_token!r} is longer than a 1.6 idTag (20)"])
    return token.id_token


def start_transaction(station, id_token, evse_id=None, source="", charging_profile=None):
    """RequestStartTransaction (2.0.1, with a remoteStartId the transaction will carry) or
    RemoteStartTransaction (1.6; evse_id is the connectorId). `charging_profile` (K05): a
    TxProfile for the transaction, checked and tracked before anything is sent."""
    version = _version(station)
    with db_transaction.atomic():
        remote_start = actions.create_remote_start(station, id_token.id_token, id_token.type, evse_id)
        tracked = None
        if charging_profile is not None:
            profile, tracked = actions.remote_start_profile(station, evse_id, charging_profile)
        if version == OCPP201:
            payload = {"idToken": _id_token_201(id_token), "remoteStartId": remote_start.pk}
            if evse_id is not None:
                payload["evseId"] = evse_id
            if id_token.group:
                payload["groupIdToken"] = _id_token_201(id_token.group)
            action = "RequestStartTransaction"
        else:
            payload = {"idTag": _id_tag(id_token)}
            if evse_id is not None:
                payload["connectorId"] = evse_id
            action = "RemoteStartTransaction"
        if tracked is not None:
            payload["chargingProfile"] = profile
        command = outbound.send_call(station.identity, version, action, payload, source=source)
        actions.attach_command(remote_start, command)
        if tracked is not None:
            actions.remote_start_profile_sent(tracked, command)
    command.refresh_from_db()  # on the embedded default the answer may already be in
    return command


def stop_transaction(station, transaction_id, source=""):
    """RequestStopTransaction (2.0.1) / RemoteStopTransaction (1.6) of a transaction id."""
    version = _version(station)
    if version == OCPP201:
        return outbound.send_call(station.identity, version, "RequestStopTransaction",
                                  {"transactionId": str(transaction_id)}, source=source)
    try:
        number = int(transaction_id)
    except (TypeError, ValueError):
        raise outbound.InvalidCommand([f"1.6 transaction ids are integers, not {transaction_id!r}"])
    return outbound.send_call(station.identity, version, "RemoteStopTransaction",
                              {"transactionId": number}, source=source)


def active_transaction(station):
    """The one running transaction of a station (for a stop that names none)."""
    running = list(Transaction.objects.filter(station=station, state=Transaction.State.ACTIVE)[:2])
    if len(running) != 1:
        raise outbound.InvalidCommand(
            ["Name the transaction_id: the station has "
             f"{'no' if not running else 'more than one'} running transaction"])
    return running[0]


def reserve(station, id_token, expires_at, evse_id=None, connector_type="", source=""):
    """ReserveNow for a token until expires_at, on one EVSE (1.6: connector) or any (None)."""
    version = _version(station)
    with db_transaction.atomic():
        reservation = actions.create_reservation(station, id_token, expires_at, evse_id, connector_type)
        if version == OCPP201:
            payload = {"id": reservation.pk, "expiryDateTime": actions.iso(expires_at),
                       "idToken": _id_token_201(id_token)}
            if evse_id is not None:
                payload["evseId"] = evse_id
            if connector_type:
                payload["connectorType"] = connector_type
            if id_token.group:
                payload["groupIdToken"] = _id_token_201(id_token.group)
        else:
            payload = {"reservationId": reservation.pk, "expiryDate": actions.iso(expires_at),
                       "idTag": _id_tag(id_token), "connectorId": evse_id or 0}
            if id_token.group:
                payload["parentIdTag"] = id_token.group.id_token[:20]
        command = outbound.send_call(station.identity, version, "ReserveNow", payload, source=source)
        actions.attach_command(reservation, command)
    command.refresh_from_db()
    return reservation, command


def cancel_reservation(reservation, source=""):
    if reservation.status not in Reservation.OPEN:
        raise actions.InvalidRequest(f"Reservation {reservation.pk} is {reservation.status}, not open.")
    station = reservation.station
    version = _version(station)
    with db_transaction.atomic():
        command = outbound.send_call(station.identity, version, "CancelReservation",
                                     {"reservationId": reservation.pk}, source=source)
        actions.attach_command(reservation, command, field="cancel_command")
    command.refresh_from_db()
    return command


def send_local_list(station, update_type="Full", id_token_pks=None, source=""):
    """SendLocalList of all tokens (or the chosen ones); Differential sends only the changes since
    the list the station accepted last (or a Full list when that is not known)."""
    version = _version(station)
    if update_type not in ("Full", "Differential"):
        raise outbound.InvalidCommand([f"update_type must be Full or Differential, not {update_type!r}"])
    with db_transaction.atomic():
        update, payload = actions.plan_local_list(station, update_type, id_token_pks)
        command = outbound.send_call(station.identity, version, "SendLocalList", payload,
                                     source=source)
        actions.attach_command(update, command)
    command.refresh_from_db()
    return command


def get_local_list_version(station, source=""):
    from .models import LocalListUpdate

    version = _version(station)
    with db_transaction.atomic():
        update = LocalListUpdate.objects.create(local_list=actions.local_list_of(station),
                                                kind=LocalListUpdate.Kind.GET_VERSION)
        command = outbound.send_call(station.identity, version, "GetLocalListVersion", {},
                                     source=source)
        actions.attach_command(update, command)
    command.refresh_from_db()
    return command


def clear_cache(station, source=""):
    return outbound.send_call(station.identity, _version(station), "ClearCache", {}, source=source)


def cost_updated(transaction, total, source="task:cost-updates"):
    """CostUpdated (2.0.1 only: 1.6 has no such message)."""
    return outbound.send_call(transaction.station.identity, OCPP201, "CostUpdated",
                              {"totalCost": float(total), "transactionId": transaction.transaction_id},
                              source=source)


def get_transaction_status(station, transaction=None, trigger="Operator", source=""):
    """GetTransactionStatus (2.0.1 E14) about one transaction, or without one (are any messages
    queued?): (request, command). The answer is applied by receivers.py."""
    version = _version(station)
    if version != OCPP201:
        raise actions.InvalidRequest("GetTransactionStatus is OCPP 2.0.1 only.")
    payload = {"transactionId": transaction.transaction_id} if transaction is not None else {}
    with db_transaction.atomic():
        status_request = transaction_status.create_request(station, transaction, trigger)
        command = outbound.send_call(station.identity, version, "GetTransactionStatus", payload,
                                     source=source)
        transaction_status.attach_command(status_request, command)
    command.refresh_from_db()  # on the embedded default the answer may already be in
    status_request.refresh_from_db()
    return status_request, command


def ask_after_reconnect(station_pk, ocpp_version):
    """A 2.0.1 station reconnected while the CSMS has transactions of it running: ask about each
    (the calls go out before its first frame is read). Returns the requests."""
    if ocpp_version != OCPP201:
        return []
    return [get_transaction_status(transaction.station, transaction,
                                   TransactionStatusRequest.Trigger.RECONNECT,
                                   source="csms:reconnect")[0]
            for transaction in transaction_status.running_transactions(station_pk)]


def token_by_reference(value, token_type=None, for_remote_start=False):
    """An IdToken by pk or by value (and type); InvalidRequest when there is none. For a remote
    start, an unknown value is recorded when the unknown-token policy accepts it."""
    token = None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit() and not token_type):
        token = IdToken.objects.select_related("group").filter(pk=int(value)).first()
    if token is None and for_remote_start:
        return actions.token_for_remote_start(str(value), token_type)
    if token is None:
        token = actions.find_token(str(value), token_type)
    if token is None:
        raise actions.InvalidRequest(f"No id token {value!r}.")
    return token
