"""Handlers for what stations send about themselves: boot, heartbeat, status, DataTransfer
(2.0.1 and 1.6)."""
from django.utils import timezone

from csms.ocpp.framing import OCPP16, OCPP201
from csms.ocpp.router import router

from .. import actions, datatransfer


def now_iso():
    return timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")


@router.register(OCPP201, "BootNotification")
def boot_notification_201(session, payload):
    status, interval = actions.record_boot(
        session.station_pk, payload["chargingStation"], payload["reason"], session.ocpp_version
    )
    session.registration_status = status
    return {"currentTime": now_iso(), "interval": interval, "status": status}


@router.register(OCPP16, "BootNotification")
def boot_notification_16(session, payload):
    charging_station = {
        "vendorName": payload["chargePointVendor"],
        "model": payload["chargePointModel"],
        "serialNumber": payload.get("chargePointSerialNumber") or payload.get("chargeBoxSerialNumber", ""),
        "firmwareVersion": payload.get("firmwareVersion", ""),
        "modem": {"iccid": payload.get("iccid", ""), "imsi": payload.get("imsi", "")},
    }
    status, interval = actions.record_boot(
        session.station_pk, charging_station, "", session.ocpp_version
    )
    session.registration_status = status
    return {"currentTime": now_iso(), "interval": interval, "status": status}


# A Heartbeat needs no database write: any message already proves the station alive, and the
# consumer writes last-seen at most every OCPP_LAST_SEEN_WRITE_INTERVAL.
@router.register(OCPP201, "Heartbeat")
async def heartbeat_201(session, payload):
    return {"currentTime": now_iso()}


@router.register(OCPP16, "Heartbeat")
async def heartbeat_16(session, payload):
    return {"currentTime": now_iso()}


@router.register(OCPP201, "StatusNotification")
def status_notification_201(session, payload):
    actions.record_connector_status(
        session.station_pk, payload["evseId"], payload["connectorId"],
        payload["connectorStatus"], payload["timestamp"],
    )
    return {}


@router.register(OCPP16, "StatusNotification")
def status_notification_16(session, payload):
    actions.record_connector_status(
        session.station_pk, None, payload["connectorId"], payload["status"],
        payload.get("timestamp"), payload.get("errorCode", ""), payload.get("info", ""),
        payload.get("vendorErrorCode", ""),
    )
    return {}


# BRIEF §8: a transfer no vendor module handles is answered UnknownVendorId/UnknownMessageId.
@router.register(OCPP201, "DataTransfer")
@router.register(OCPP16, "DataTransfer")
async def data_transfer(session, payload):
    return await datatransfer.answer(session, payload)


from . import firmware  # noqa: E402,F401  (firmware notifications and answers)
from . import display  # noqa: E402,F401  (display messages: notifications and answers)
from . import logs  # noqa: E402,F401  (log and diagnostics notifications and answers)
from . import data_transfers  # noqa: E402,F401  (outbound DataTransfer answers)
from . import certificates  # noqa: E402,F401  (SignCertificate and certificate answers)
from . import security_events  # noqa: E402,F401  (security log, password rotation answers)
from . import pnc  # noqa: E402,F401  (Get15118EVCertificate, GetCertificateStatus)
