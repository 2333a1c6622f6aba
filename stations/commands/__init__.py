"""CSMS -> station operations on stations: built for the station's OCPP version, sent as commands."""
from csms.ocpp import outbound
from csms.ocpp.framing import OCPP16, OCPP201


class StationNotReady(Exception):
    """The station cannot be addressed yet (it never connected, so its version is unknown)."""


# Reset types are named differently per version; either spelling is accepted for both.
RESET_TYPES = {
    OCPP201: {"Immediate": "Immediate", "OnIdle": "OnIdle", "Hard": "Immediate", "Soft": "OnIdle"},
    OCPP16: {"Hard": "Hard", "Soft": "Soft", "Immediate": "Hard", "OnIdle": "Soft"},
}


def _version(station):
    if not station.ocpp_version:
        raise StationNotReady(f"{station.identity} has never connected; its OCPP version is unknown")
    return station.ocpp_version


def send(station, action, payload, source=""):
    """The generic command: any CSMS -> station action of the station's own OCPP version."""
    return outbound.send_call(station.identity, _version(station), action, payload, source=source)


def reset(station, reset_type="Immediate", evse_id=None, source=""):
    version = _version(station)
    mapped = RESET_TYPES[version].get(reset_type)
    if mapped is None:
        raise outbound.InvalidCommand([f"Unknown reset type {reset_type!r}"])
    payload = {"type": mapped}
    if evse_id is not None:
        if version == OCPP16:
            raise outbound.InvalidCommand(["OCPP 1.6 resets the whole station; omit evse_id"])
        payload["evseId"] = evse_id
    return outbound.send_call(station.identity, version, "Reset", payload, source=source)


def trigger_message(station, requested_message, evse_id=None, connector_id=None, source=""):
    version = _version(station)
    payload = {"requestedMessage": requested_message}
    if version == OCPP201:
        if evse_id is not None:
            payload["evse"] = {"id": evse_id}
            if connector_id is not None:
                payload["evse"]["connectorId"] = connector_id
        elif connector_id is not None:
            raise outbound.InvalidCommand(["connector_id needs evse_id on OCPP 2.0.1"])
    elif connector_id is not None:
        payload["connectorId"] = connector_id
    return outbound.send_call(station.identity, version, "TriggerMessage", payload, source=source)


def unlock_connector(station, connector_id, evse_id=None, source=""):
    """UnlockConnector: 2.0.1 needs the EVSE and connector; 1.6 the connector alone."""
    version = _version(station)
    if version == OCPP201:
        if evse_id is None:
            raise outbound.InvalidCommand(["OCPP 2.0.1 unlocks a connector of an EVSE: give evse_id"])
        payload = {"evseId": evse_id, "connectorId": connector_id}
    else:
        payload = {"connectorId": connector_id}
    return outbound.send_call(station.identity, version, "UnlockConnector", payload, source=source)


def change_availability(station, operational_status, evse_id=None, connector_id=None, source=""):
    """ChangeAvailability Operative/Inoperative of the station (no ids), an EVSE or a connector;
    on 1.6 a connector (connectorId 0 = the whole station)."""
    version = _version(station)
    if operational_status not in ("Operative", "Inoperative"):
        raise outbound.InvalidCommand(["operational_status must be Operative or Inoperative"])
    if version == OCPP201:
        payload = {"operationalStatus": operational_status}
        if evse_id is not None:
            payload["evse"] = {"id": evse_id}
            if connector_id is not None:
                payload["evse"]["connectorId"] = connector_id
        elif connector_id is not None:
            raise outbound.InvalidCommand(["connector_id needs evse_id on OCPP 2.0.1"])
    else:
        payload = {"connectorId": connector_id if connector_id is not None else (evse_id or 0),
                   "type": operational_status}
    return outbound.send_call(station.identity, version, "ChangeAvailability", payload, source=source)
