"""Handlers for what 2.0.1 stations send about smart charging (block K)."""
import logging

from csms.ocpp.framing import OCPP201, OcppError
from csms.ocpp.router import router

from . import actions

logger = logging.getLogger(__name__)
INTEGER_MAX = 2**31 - 1
# Counts and numbers the schemas leave unbounded but that are never negative (a lowest stack
# level of 0, EVSE 0 = the station); ids are the 32-bit integers the columns hold.
NON_NEGATIVE = {"evseId", "stackLevel", "maxScheduleTuples"}
BOUNDED = NON_NEGATIVE | {"id", "requestId", "transactionId"}


def _check_numbers(value, path="payload"):
    """A PropertyConstraintViolation for a number the CSMS cannot store, not a database error."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in BOUNDED and isinstance(item, int) and not isinstance(item, bool):
                low = 0 if key in NON_NEGATIVE else -INTEGER_MAX - 1
                if not low <= item <= INTEGER_MAX:
                    raise OcppError("PropertyConstraintViolation",
                                    f"{path}.{key} {item} is outside {low}..{INTEGER_MAX}")
            _check_numbers(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_numbers(item, f"{path}[{index}]")


@router.register(OCPP201, "ReportChargingProfiles")
def report_charging_profiles(session, payload):
    _check_numbers(payload)
    if not actions.record_profiles_report(session.station_pk, payload):
        logger.warning("ReportChargingProfiles for unknown requestId %s", payload["requestId"])
    return {}


@router.register(OCPP201, "NotifyChargingLimit")
def notify_charging_limit(session, payload):
    _check_numbers(payload)
    actions.record_charging_limit(session.station_pk, payload)
    return {}


@router.register(OCPP201, "ClearedChargingLimit")
def cleared_charging_limit(session, payload):
    _check_numbers(payload)
    actions.clear_charging_limit(session.station_pk, payload)
    return {}


@router.register(OCPP201, "NotifyEVChargingNeeds")
def notify_ev_charging_needs(session, payload):
    _check_numbers(payload)
    return actions.record_ev_charging_needs(session.station_pk, payload)


@router.register(OCPP201, "NotifyEVChargingSchedule")
def notify_ev_charging_schedule(session, payload):
    _check_numbers(payload)
    actions.record_ev_charging_schedule(session.station_pk, payload)
    return {"status": "Accepted"}
