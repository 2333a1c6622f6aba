"""CSMS -> station smart-charging operations for both OCPP versions: SetChargingProfile,
ClearChargingProfile, GetChargingProfiles (2.0.1), GetCompositeSchedule. Answers: receivers.py."""
from django.db import transaction as db_transaction

from csms.ocpp import outbound
from csms.ocpp.framing import OCPP16, OCPP201
from stations.commands import StationNotReady, _version

from . import actions
from .models import ChargingProfile, ProfileReport

__all__ = ["StationNotReady", "set_charging_profile", "clear_charging_profile",
           "clear_profile", "get_charging_profiles", "get_composite_schedule"]

Purpose = ChargingProfile.Purpose
PURPOSE_16 = {Purpose.CHARGING_STATION_MAX: "ChargePointMaxProfile"}


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _schedule_16(schedule):
    result = {key: schedule[key] for key in ("duration", "startSchedule", "minChargingRate")
              if schedule.get(key) is not None}
    result["chargingRateUnit"] = schedule["chargingRateUnit"]
    result["chargingSchedulePeriod"] = [
        {key: period[key] for key in ("startPeriod", "limit", "numberPhases")
         if period.get(key) is not None}
        for period in schedule["chargingSchedulePeriod"]]
    return result


def profile_payload(profile, version):
    """The SetChargingProfile request carrying `profile`, for the station's version."""
    common = {"stackLevel": profile.stack_level, "chargingProfileKind": profile.kind}
    if profile.recurrency_kind:
        common["recurrencyKind"] = profile.recurrency_kind
    if profile.valid_from:
        common["validFrom"] = _iso(profile.valid_from)
    if profile.valid_to:
        common["validTo"] = _iso(profile.valid_to)
    if version == OCPP16:
        body = {"chargingProfileId": profile.charging_profile_id,
                "chargingProfilePurpose": PURPOSE_16.get(profile.purpose, profile.purpose),
                **common, "chargingSchedule": _schedule_16(profile.schedules[0])}
        if profile.transaction is not None:
            body["transactionId"] = int(profile.transaction.transaction_id)
        return {"connectorId": profile.evse_id, "csChargingProfiles": body}
    body = {"id": profile.charging_profile_id, "chargingProfilePurpose": profile.purpose, **common,
            "chargingSchedule": profile.schedules}
    if profile.transaction is not None:
        body["transactionId"] = profile.transaction.transaction_id
    return {"evseId": profile.evse_id, "chargingProfile": body}


def set_charging_profile(station, data, source=""):
    """Validate `data` (model field names) and push it: (profile, command). Raises
    actions.InvalidProfile with every reason, before anything is recorded or sent."""
    version = _version(station)
    with db_transaction.atomic():
        profile = actions.create_profile(station, data)
        payload = profile_payload(profile, version)
        try:
            outbound.check_request(version, "SetChargingProfile", payload)
        except outbound.InvalidCommand as error:
            # Outside the domain rules (e.g. a value too large for the schema): the row rolls back.
            raise actions.InvalidProfile(error.errors)
        command = outbound.send_call(station.identity, version, "SetChargingProfile", payload,
                                     source=source)
        actions.attach_command(profile, command)
    command.refresh_from_db()  # on the embedded default the answer may already be in
    profile.refresh_from_db()
    return profile, command


def clear_charging_profile(station, charging_profile_id=None, evse_id=None, purpose=None,
                           stack_level=None, source=""):
    """ClearChargingProfile by id or by criteria (none given: every profile but the station's
    external constraints). Matching profiles become cleared when the station accepts."""
    version = _version(station)
    if purpose == Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS:
        raise outbound.InvalidCommand(["the CSMS does not clear ChargingStationExternalConstraints"])
    if version == OCPP16:
        payload = {key: value for key, value in (
            ("id", charging_profile_id), ("connectorId", evse_id),
            ("chargingProfilePurpose", PURPOSE_16.get(purpose, purpose)),
            ("stackLevel", stack_level)) if value is not None}
    else:
        criteria = {key: value for key, value in (
            ("evseId", evse_id), ("chargingProfilePurpose", purpose), ("stackLevel", stack_level))
            if value is not None}
        payload = {}
        if charging_profile_id is not None:
            payload["chargingProfileId"] = charging_profile_id
        if criteria:
            payload["chargingProfileCriteria"] = criteria
    command = outbound.send_call(station.identity, version, "ClearChargingProfile", payload,
                                 source=source)
    command.refresh_from_db()
    return command


def clear_profile(profile, source=""):
    """ClearChargingProfile of one tracked profile, by its id."""
    if profile.state not in ChargingProfile.LIVE_STATES:
        raise actions.InvalidProfile([f"profile {profile.pk} is {profile.state}; the station does "
                                      "not hold it"])
    with db_transaction.atomic():
        command = clear_charging_profile(profile.station, profile.charging_profile_id,
                                         source=source)
        actions.attach_command(profile, command, field="clear_command")
    command.refresh_from_db()
    return command


def get_charging_profiles(station, evse_id=None, purpose=None, stack_level=None, source=""):
    """GetChargingProfiles (2.0.1 only): the profiles arrive in ReportChargingProfiles parts
    carrying the report's pk as requestId; (report, command)."""
    version = _version(station)
    if version != OCPP201:
        raise outbound.InvalidCommand(["OCPP 1.6 has no GetChargingProfiles"])
    criteria = {key: value for key, value in (
        ("chargingProfilePurpose", purpose), ("stackLevel", stack_level)) if value is not None}
    with db_transaction.atomic():
        report = ProfileReport.objects.create(station=station, evse_id=evse_id, criteria=criteria)
        payload = {"requestId": report.pk, "chargingProfile": criteria}
        if evse_id is not None:
            payload["evseId"] = evse_id
        command = outbound.send_call(station.identity, version, "GetChargingProfiles", payload,
                                     source=source)
        report.command = command
        report.save(update_fields=["command"])
    command.refresh_from_db()
    report.refresh_from_db()
    return report, command


def get_composite_schedule(station, evse_id, duration, charging_rate_unit=None, source=""):
    """GetCompositeSchedule; the station's schedule is kept in the command's response."""
    version = _version(station)
    payload = {"duration": duration}
    payload["connectorId" if version == OCPP16 else "evseId"] = evse_id
    if charging_rate_unit:
        payload["chargingRateUnit"] = charging_rate_unit
    command = outbound.send_call(station.identity, version, "GetCompositeSchedule", payload,
                                 source=source)
    command.refresh_from_db()
    return command
