"""Charging profiles: validation against the rules and the station's limits, creation, and the
station's answers to SetChargingProfile / ClearChargingProfile."""
from django.db import transaction as db_transaction
from django.db.models import Q

from csms.models import Command
from csms.ocpp.framing import OCPP16
from devicemodel.models import CONFIGURATION_COMPONENT, AttributeType, VariableAttribute
from transactions.models import Transaction

from ..models import ChargingProfile

Purpose = ChargingProfile.Purpose
State = ChargingProfile.State

# The station's own limits: (2.0.1 SmartChargingCtrlr variable names, 1.6 configuration key).
# The 2.0.1 appendix names come first; the spellings (as 1.6) are accepted as well.
STATION_LIMITS = {
    "periods": (["PeriodsPerSchedule", "ChargingScheduleMaxPeriods"], "ChargingScheduleMaxPeriods"),
    "stack_level": (["ProfileStackLevel", "ChargeProfileMaxStackLevel"], "ChargeProfileMaxStackLevel"),
    "installed": (["Entries", "MaxChargingProfilesInstalled"], "MaxChargingProfilesInstalled"),
    "rate_unit": (["RateUnit", "ChargingScheduleAllowedChargingRateUnit"],
                  "ChargingScheduleAllowedChargingRateUnit"),
}
RATE_UNITS = ("A", "W")
INTEGER_MAX = 2**31 - 1


class InvalidProfile(ValueError):
    """The profile cannot be sent: every reason is listed."""

    def __init__(self, reasons):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def station_limits(station):
    """{periods, stack_level, installed: int or None, rate_unit: set of units or None} as the
    station's device model (2.0.1) or configuration (1.6) reports them."""
    is_16 = station.ocpp_version == OCPP16
    names = {}
    for limit, (names_201, key_16) in STATION_LIMITS.items():
        for name in ([key_16] if is_16 else names_201):
            names[name] = limit
    component = CONFIGURATION_COMPONENT if is_16 else "SmartChargingCtrlr"
    rows = VariableAttribute.objects.filter(
        variable__station=station, variable__component__name=component,
        variable__name__in=list(names), type=AttributeType.ACTUAL,
    ).values_list("variable__name", "variable__instance", "value")
    found = {limit: None for limit in STATION_LIMITS}
    for name, instance, value in rows:
        limit = names[name]
        # 2.0.1 Entries counts several things; the instance says which.
        if name == "Entries" and instance != "ChargingProfiles":
            continue
        if limit == "rate_unit":
            units = {unit.strip()[:1].upper() for unit in (value or "").split(",") if unit.strip()}
            found[limit] = (units & set(RATE_UNITS)) or None
        else:
            try:
                found[limit] = int(str(value).strip())
            except (TypeError, ValueError):
                pass
    return found


def running_transaction(station, evse_id):
    """The running transaction on this EVSE (1.6: connector), or None."""
    running = Transaction.objects.filter(station=station, state=Transaction.State.ACTIVE)
    if station.ocpp_version == OCPP16:
        running = running.filter(Q(evse_id=evse_id) | Q(evse_id__isnull=True, connector_id=evse_id))
    else:
        running = running.filter(evse_id=evse_id)
    return running.order_by("-id").first()


def live_profiles(station):
    """Profiles the station holds, or will once it answers."""
    return ChargingProfile.objects.filter(station=station, state__in=ChargingProfile.LIVE_STATES)


def _replaced_by(station, data, exclude_pk=None):
    """Live profiles the new one replaces: same purpose + stackLevel + EVSE, or the same id."""
    same = Q(purpose=data["purpose"], stack_level=data["stack_level"], evse_id=data["evse_id"])
    if data.get("charging_profile_id") is not None:
        same |= Q(charging_profile_id=data["charging_profile_id"])
    found = live_profiles(station).filter(same)
    return found.exclude(pk=exclude_pk) if exclude_pk else found


def _check_schedule(number, schedule, is_16, limits):
    reasons = []
    where = f"schedule {number}"
    unit = schedule.get("chargingRateUnit")
    if unit not in RATE_UNITS:
        reasons.append(f"{where}: chargingRateUnit must be A or W, not {unit!r}")
    elif limits["rate_unit"] and unit not in limits["rate_unit"]:
        reasons.append(f"{where}: the station accepts only {'/'.join(sorted(limits['rate_unit']))} "
                       f"limits, not {unit}")
    for field in ("duration", "minChargingRate"):
        value = schedule.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or value < 0):
            reasons.append(f"{where}: {field} must be a number ≥ 0")
    if is_16 and schedule.get("id") is not None:
        reasons.append(f"{where}: OCPP 1.6 schedules have no id")
    periods = schedule.get("chargingSchedulePeriod")
    if not isinstance(periods, list) or not periods:
        reasons.append(f"{where}: chargingSchedulePeriod must list at least one period")
        return reasons
    if limits["periods"] is not None and len(periods) > limits["periods"]:
        reasons.append(f"{where}: {len(periods)} periods; the station takes at most "
                       f"{limits['periods']} per schedule")
    previous = None
    for index, period in enumerate(periods, 1):
        label = f"{where} period {index}"
        if not isinstance(period, dict):
            reasons.append(f"{label}: must be an object")
            continue
        start, limit = period.get("startPeriod"), period.get("limit")
        if isinstance(start, bool) or not isinstance(start, int):
            reasons.append(f"{label}: startPeriod must be an integer (seconds)")
        else:
            if index == 1 and start != 0:
                reasons.append(f"{where}: the first period must start at 0, not {start}")
            if previous is not None and start <= previous:
                reasons.append(f"{label}: startPeriod {start} does not come after {previous}")
            previous = start
        if isinstance(limit, bool) or not isinstance(limit, (int, float)):
            reasons.append(f"{label}: limit must be a number")
        elif limit < 0:
            reasons.append(f"{label}: limit must be ≥ 0, not {limit}")
        phases = period.get("numberPhases")
        if phases is not None and phases not in (1, 2, 3):
            reasons.append(f"{label}: numberPhases must be 1, 2 or 3")
        if period.get("phaseToUse") is not None:
            if is_16:
                reasons.append(f"{label}: OCPP 1.6 has no phaseToUse")
            elif phases != 1:
                reasons.append(f"{label}: phaseToUse needs numberPhases 1")
    return reasons


def validate_profile(station, data, transaction_required=True):
    """Every reason the profile `data` (model field names, OCPP-shaped schedules) cannot be sent
    to `station`; empty when it can. A TxProfile sent with a remote start has no transaction yet
    (transaction_required False)."""
    reasons = []
    if not station.ocpp_version:
        return [f"{station.identity} has never connected; its OCPP version is unknown"]
    is_16 = station.ocpp_version == OCPP16
    purpose, evse_id = data.get("purpose"), data.get("evse_id", 0)
    if purpose not in Purpose.values:
        reasons.append(f"purpose must be one of {', '.join(Purpose.values)}")
    elif purpose == Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS:
        reasons.append("ChargingStationExternalConstraints profiles are set by the station or its "
                       "energy manager, never by the CSMS")
    elif purpose == Purpose.CHARGING_STATION_MAX and evse_id != 0:
        reasons.append("ChargingStationMaxProfile applies to the whole station: evse_id must be 0")
    elif purpose == Purpose.TX:
        if evse_id == 0:
            reasons.append("TxProfile needs the EVSE of a running transaction, not evse_id 0")
        elif transaction_required and running_transaction(station, evse_id) is None:
            reasons.append(f"TxProfile needs a running transaction on EVSE {evse_id}; there is none")
    if evse_id and not station_has_evse(station, evse_id):
        reasons.append(f"{station.identity} has no EVSE {evse_id}")
    kind, recurrency = data.get("kind"), data.get("recurrency_kind") or ""
    if kind not in ChargingProfile.Kind.values:
        reasons.append(f"kind must be one of {', '.join(ChargingProfile.Kind.values)}")
    elif kind == ChargingProfile.Kind.RECURRING and not recurrency:
        reasons.append("a Recurring profile needs recurrency_kind Daily or Weekly")
    elif kind != ChargingProfile.Kind.RECURRING and recurrency:
        reasons.append("recurrency_kind is only for Recurring profiles")
    valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
    if valid_from and valid_to and valid_from >= valid_to:
        reasons.append("valid_from must be before valid_to")
    limits = station_limits(station)
    stack_level = data.get("stack_level")
    if limits["stack_level"] is not None and stack_level is not None \
            and stack_level > limits["stack_level"]:
        reasons.append(f"stack_level {stack_level} is above the station's maximum "
                       f"{limits['stack_level']}")
    schedules = data.get("schedules")
    if not isinstance(schedules, list) or not schedules:
        reasons.append("schedules must list at least one charging schedule")
        schedules = []
    elif is_16 and len(schedules) != 1:
        reasons.append(f"OCPP 1.6 profiles carry exactly one schedule, not {len(schedules)}")
    elif len(schedules) > 3:
        reasons.append(f"a profile carries at most three schedules, not {len(schedules)}")
    for number, schedule in enumerate(schedules, 1):
        if not isinstance(schedule, dict):
            reasons.append(f"schedule {number}: must be an object")
            continue
        if kind == ChargingProfile.Kind.RELATIVE and schedule.get("startSchedule"):
            reasons.append(f"schedule {number}: a Relative profile has no startSchedule")
        if kind == ChargingProfile.Kind.RECURRING and not schedule.get("startSchedule"):
            reasons.append(f"schedule {number}: a Recurring profile needs startSchedule")
        reasons.extend(_check_schedule(number, schedule, is_16, limits))
    ids = [schedule.get("id") for schedule in schedules
           if isinstance(schedule, dict) and schedule.get("id") is not None]
    if len(ids) != len(set(ids)):
        reasons.append("schedule ids must differ within a profile")
    if limits["installed"] is not None and purpose in Purpose.values and stack_level is not None:
        held = live_profiles(station).count()
        kept = held - _replaced_by(station, {**data, "evse_id": evse_id}).count()
        if kept + 1 > limits["installed"]:
            reasons.append(f"the station holds {held} profiles and takes at most "
                           f"{limits['installed']}")
    return reasons


def station_has_evse(station, evse_id):
    if station.ocpp_version == OCPP16:
        return station.connectors.filter(connector_id=evse_id).exists() or \
            not station.connectors.exists()
    return station.evses.filter(evse_id=evse_id).exists() or not station.evses.exists()


def create_profile(station, data, transaction_required=True):
    """Validate and record a profile to send (pending); InvalidProfile with every reason."""
    reasons = validate_profile(station, data, transaction_required)
    if reasons:
        raise InvalidProfile(reasons)
    transaction = None
    if data["purpose"] == Purpose.TX and transaction_required:
        transaction = running_transaction(station, data["evse_id"])
    schedules = [dict(schedule) for schedule in data["schedules"]]
    if station.ocpp_version != OCPP16:
        # 2.0.1 schedules need an id: number them when the caller did not.
        used = {schedule.get("id") for schedule in schedules}
        next_id = 1
        for schedule in schedules:
            if schedule.get("id") is None:
                while next_id in used:
                    next_id += 1
                schedule["id"] = next_id
                used.add(next_id)
    profile = ChargingProfile.objects.create(
        station=station, evse_id=data["evse_id"], stack_level=data["stack_level"],
        charging_profile_id=data.get("charging_profile_id") or 0, purpose=data["purpose"],
        kind=data["kind"], recurrency_kind=data.get("recurrency_kind") or "",
        valid_from=data.get("valid_from"), valid_to=data.get("valid_to"),
        transaction=transaction, schedules=schedules,
    )
    if not profile.charging_profile_id:
        # The row's own number is unique across stations and fits OCPP's 32-bit id.
        profile.charging_profile_id = profile.pk
        profile.save(update_fields=["charging_profile_id"])
    return profile


def attach_command(profile, command, field="command"):
    setattr(profile, field, command)
    profile.save(update_fields=[field, "updated_at"])


FAILED = {Command.Status.ERROR, Command.Status.TIMEOUT, Command.Status.OFFLINE}


def settle_set_profile(command):
    """The station's answer to SetChargingProfile: Accepted installs the profile (and replaces
    the older one with the same purpose/stackLevel/EVSE or id), Rejected rejects it."""
    with db_transaction.atomic():
        profile = ChargingProfile.objects.select_for_update().filter(
            command_id=command.pk, state=State.PENDING).first()
        if profile is None:
            return None
        if command.status == Command.Status.ACCEPTED:
            profile.state = State.INSTALLED
            _replaced_by(profile.station, {
                "purpose": profile.purpose, "stack_level": profile.stack_level,
                "evse_id": profile.evse_id, "charging_profile_id": profile.charging_profile_id,
            }, exclude_pk=profile.pk).filter(state=State.INSTALLED).update(
                state=State.REPLACED, replaced_by=profile)
        elif command.status == Command.Status.REJECTED:
            profile.state = State.REJECTED
        elif command.status in FAILED:
            profile.state = State.ERROR
        else:
            return profile
        profile.save(update_fields=["state", "updated_at"])
    return profile


def clear_criteria(command):
    """(charging_profile_id, evse_id, purpose, stack_level) a ClearChargingProfile named (None:
    any), read from the payload of either version."""
    payload = command.payload or {}
    if command.ocpp_version == OCPP16:
        purpose = payload.get("chargingProfilePurpose")
        if purpose == "ChargePointMaxProfile":
            purpose = Purpose.CHARGING_STATION_MAX
        return payload.get("id"), payload.get("connectorId"), purpose, payload.get("stackLevel")
    criteria = payload.get("chargingProfileCriteria") or {}
    return (payload.get("chargingProfileId"), criteria.get("evseId"),
            criteria.get("chargingProfilePurpose"), criteria.get("stackLevel"))


def profiles_matching(station, charging_profile_id=None, evse_id=None, purpose=None,
                      stack_level=None):
    found = live_profiles(station)
    if charging_profile_id is not None:
        found = found.filter(charging_profile_id=charging_profile_id)
    if evse_id is not None:
        found = found.filter(evse_id=evse_id)
    if purpose is not None:
        found = found.filter(purpose=purpose)
    if stack_level is not None:
        found = found.filter(stack_level=stack_level)
    return found


def settle_clear(command):
    """ClearChargingProfile accepted: every matching profile the station held is cleared."""
    if command.status != Command.Status.ACCEPTED:
        return 0
    from stations.models import Station

    station = Station.objects.filter(identity=command.identity).first()
    if station is None:
        return 0
    # A station never clears its external constraints on the CSMS's request.
    return profiles_matching(station, *clear_criteria(command)).exclude(
        purpose=Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS,
    ).update(state=State.CLEARED, clear_command=command)


def sweep_profiles(now=None):
    """What no receiver applied: answers a failed receiver left (settled now), profiles past
    validTo and TxProfiles whose transaction ended (the station drops those: expired)."""
    from django.utils import timezone

    now = now or timezone.now()
    unsettled = Command.objects.filter(
        pk__in=ChargingProfile.objects.filter(state=State.PENDING, command__isnull=False)
        .values("command_id"), status__in=Command.FINISHED)
    settled = sum(1 for command in unsettled if settle_set_profile(command) is not None)
    expired = ChargingProfile.objects.filter(state=State.INSTALLED).filter(
        Q(valid_to__lte=now) | Q(purpose=Purpose.TX, transaction__state=Transaction.State.ENDED),
    ).update(state=State.EXPIRED)
    return settled, expired
