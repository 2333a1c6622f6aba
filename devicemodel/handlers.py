"""Handlers for the device-model messages stations send (OCPP 2.0.1): reports and events."""
from csms.ocpp.framing import OCPP201
from csms.ocpp.router import router

from . import actions


@router.register(OCPP201, "NotifyReport")
def notify_report(session, payload):
    actions.record_report_part(
        session.station_pk, payload["requestId"], payload["seqNo"], payload.get("tbc", False),
        payload["generatedAt"], payload.get("reportData", []),
    )
    return {}


@router.register(OCPP201, "NotifyMonitoringReport")
def notify_monitoring_report(session, payload):
    actions.record_report_part(
        session.station_pk, payload["requestId"], payload["seqNo"], payload.get("tbc", False),
        payload["generatedAt"], payload.get("monitor", []), monitoring=True,
    )
    return {}


@router.register(OCPP201, "NotifyEvent")
def notify_event(session, payload):
    actions.record_events(session.station_pk, payload)
    return {}
