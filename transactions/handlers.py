"""Handlers for what stations send about charging: Authorize, transactions, meter values and
reservation updates (2.0.1 and 1.6)."""
from csms.ocpp.framing import OCPP16, OCPP201
from csms.ocpp.router import router

from . import actions, ingest, pnc


@router.register(OCPP201, "Authorize")
def authorize_201(session, payload):
    id_token = payload["idToken"]
    verdict = pnc.check_contract(payload)  # None unless a contract certificate or hash data came
    if verdict is not None and verdict.status != pnc.ACCEPTED:
        # C07/C08: a contract failing its certificate checks is not valid, whatever the token.
        token = actions.find_token(id_token["idToken"], id_token["type"])
        return {"idTokenInfo": actions.id_token_info(token, "Invalid", with_cache_expiry=False),
                "certificateStatus": verdict.status}
    info = actions.authorize_request(session.station_pk, OCPP201, id_token["idToken"],
                                     id_token["type"])
    if verdict is None:
        return {"idTokenInfo": info}
    if info["status"] in pnc.CANCELLED_TOKEN_STATUSES:
        # A valid contract certificate whose eMAID the operator blocked or invalidated.
        return {"idTokenInfo": info, "certificateStatus": pnc.CONTRACT_CANCELLED}
    return {"idTokenInfo": info, "certificateStatus": verdict.status}


@router.register(OCPP16, "Authorize")
def authorize_16(session, payload):
    return {"idTagInfo": actions.authorize_request(session.station_pk, OCPP16, payload["idTag"])}


# The hot path (group-committed, from the transaction the socket holder keeps): ingest.py.
router.register(OCPP201, "TransactionEvent")(ingest.transaction_event_201)
router.register(OCPP16, "MeterValues")(ingest.meter_values_16)
router.register(OCPP201, "MeterValues")(ingest.meter_values_201)


@router.register(OCPP16, "StartTransaction")
def start_transaction_16(session, payload):
    return actions.start_transaction_16(session.station_pk, payload)


@router.register(OCPP16, "StopTransaction")
def stop_transaction_16(session, payload):
    ingest.forget(session, payload["transactionId"])
    return actions.stop_transaction_16(session.station_pk, payload)


@router.register(OCPP201, "ReservationStatusUpdate")
def reservation_status_update_201(session, payload):
    actions.reservation_status_update(session.station_pk, payload["reservationId"],
                                      payload["reservationUpdateStatus"])
    return {}
