"""Handlers for what stations send about charging: Authorize, transactions, meter values and
reservation updates (2.0.1 and 1.6)."""
from csms.ocpp.framing import OCPP16, OCPP201
from csms.ocpp.router import router

from . import actions


@router.register(OCPP201, "Authorize")
def authorize_201(session, payload):
    id_token = payload["idToken"]
    info = actions.authorize_request(session.station_pk, OCPP201, id_token["idToken"],
                                     id_token["type"])
    return {"idTokenInfo": info}


@router.register(OCPP16, "Authorize")
def authorize_16(session, payload):
    return {"idTagInfo": actions.authorize_request(session.station_pk, OCPP16, payload["idTag"])}


@router.register(OCPP201, "TransactionEvent")
def transaction_event_201(session, payload):
    return actions.record_transaction_event(session.station_pk, payload)


@router.register(OCPP16, "StartTransaction")
def start_transaction_16(session, payload):
    return actions.start_transaction_16(session.station_pk, payload)


@router.register(OCPP16, "StopTransaction")
def stop_transaction_16(session, payload):
    return actions.stop_transaction_16(session.station_pk, payload)


@router.register(OCPP201, "MeterValues")
def meter_values_201(session, payload):
    actions.record_meter_values_201(session.station_pk, payload["evseId"], payload["meterValue"])
    return {}


@router.register(OCPP16, "MeterValues")
def meter_values_16(session, payload):
    actions.record_meter_values_16(session.station_pk, payload["connectorId"],
                                   payload["meterValue"], payload.get("transactionId"))
    return {}


@router.register(OCPP201, "ReservationStatusUpdate")
def reservation_status_update_201(session, payload):
    actions.reservation_status_update(session.station_pk, payload["reservationId"],
                                      payload["reservationUpdateStatus"])
    return {}
