"""Handlers for what 2.0.1 stations send about smart charging (block K)."""
import logging

from csms.ocpp.framing import OCPP201
from csms.ocpp.router import router

from . import actions

logger = logging.getLogger(__name__)


@router.register(OCPP201, "ReportChargingProfiles")
def report_charging_profiles(session, payload):
    if not actions.record_profiles_report(session.station_pk, payload):
        logger.warning("ReportChargingProfiles for unknown requestId %s", payload["requestId"])
    return {}


@router.register(OCPP201, "NotifyChargingLimit")
def notify_charging_limit(session, payload):
    actions.record_charging_limit(session.station_pk, payload)
    return {}


@router.register(OCPP201, "ClearedChargingLimit")
def cleared_charging_limit(session, payload):
    actions.clear_charging_limit(session.station_pk, payload)
    return {}


@router.register(OCPP201, "NotifyEVChargingNeeds")
def notify_ev_charging_needs(session, payload):
    return actions.record_ev_charging_needs(session.station_pk, payload)


@router.register(OCPP201, "NotifyEVChargingSchedule")
def notify_ev_charging_schedule(session, payload):
    actions.record_ev_charging_schedule(session.station_pk, payload)
    return {"status": "Accepted"}
