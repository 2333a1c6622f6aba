"""The profiles a site round sends to one member EVSE (its TxProfile and its own fallback
TxDefaultProfile) and how the stations' answers change what the EVSE is counted as holding."""
import time

from django.db.models import Case, F, When
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from csms.models import Command

from ..models import ChargingProfile, SiteAllocation
from .site_inputs import to_watts

State = SiteAllocation.State
Purpose = ChargingProfile.Purpose
Status = Command.Status
# The fallback TxDefaultProfile starts long ago, so no station clock puts it in its future.
FALLBACK_START = "2020-01-01T00:00:00Z"
POLL_SECONDS = 0.02


# --- what an EVSE is counted at ------------------------------------------------------------------

def fallback_bound(row):
    """What the EVSE may draw on its fallback: the accepted one, else its maximum (W)."""
    return row.maximum if row.fallback_held is None else min(row.fallback_held, row.maximum)


def worst_case(row):
    """What the EVSE may draw at some instant from now on: idle, its fallback; running, the larger
    of its TxProfile and its fallback (the session may end at any moment, and the station then
    falls back to the latter). No TxProfile yet: the session draws on the fallback."""
    fallback = fallback_bound(row)
    if row.transaction_id is None or row.tx_held is None:
        return fallback
    return max(row.tx_held, fallback)


_FALLBACK_BOUND = Coalesce(Least(F("fallback_held"), F("maximum")), F("maximum"))


def refresh_held(rows):
    """`held` again from the parts, in the database (answers arrive in several threads: each part
    is written first, then this reads them both in one statement)."""
    rows.update(held=Case(
        When(transaction__isnull=False, tx_held__isnull=False,
             then=Greatest(F("tx_held"), _FALLBACK_BOUND)),
        default=_FALLBACK_BOUND))


def fallback_state(row):
    profile = row.fallback_profile
    if profile is None:
        return State.PENDING
    return {ChargingProfile.State.INSTALLED: State.HELD, ChargingProfile.State.REJECTED:
            State.REJECTED, ChargingProfile.State.ERROR: State.UNANSWERED}.get(profile.state,
                                                                                 State.PENDING)


def fallback_unchanged(row, unit, limit):
    """The EVSE holds this fallback already (accepted, same unit and limit, nothing since)."""
    profile = row.fallback_profile
    if row.fallback_stale or profile is None or row.fallback_held is None:
        return False
    schedule = profile.schedules[0]
    return (profile.state == ChargingProfile.State.INSTALLED
            and schedule["chargingRateUnit"] == unit
            and float(schedule["chargingSchedulePeriod"][0]["limit"]) == limit)


# --- sending -------------------------------------------------------------------------------------

def _send(station, data, source):
    """SetChargingProfile; (profile, command) or (None, reason) when it cannot be sent."""
    from .. import commands  # commands imports this package

    try:
        return commands.set_charging_profile(station, data, source=source)
    except Exception as error:  # invalid here (a transaction just ended), never connected, ...
        reasons = getattr(error, "reasons", None) or [str(error)]
        return None, "; ".join(str(reason) for reason in reasons)


def send_tx_profile(site, slot, limit, watts, frames, phase):
    row = slot.row
    same_transaction = row.profile_id and row.profile and \
        row.profile.transaction_id == slot.transaction.pk
    data = {"evse_id": row.evse_id, "stack_level": slot.member.stack_level,
            "purpose": Purpose.TX, "kind": ChargingProfile.Kind.RELATIVE,
            "charging_profile_id": row.profile.charging_profile_id if same_transaction else None,
            "schedules": [{"chargingRateUnit": slot.unit,
                           "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}]}
    profile, command = _send(slot.member.station, data, f"site:{site.pk}")
    frame = {"station": slot.member.station.identity, "evse_id": row.evse_id, "purpose": "TxProfile",
             "limit": limit, "unit": slot.unit, "watts": watts, "phase": phase}
    frames.append(frame)
    if profile is None:
        frame["status"] = "invalid"
        frame["reason"] = command
        SiteAllocation.objects.filter(pk=row.pk).update(state=State.REJECTED)
        row.state = State.REJECTED
        return None
    fields = {"profile": profile, "sent_limit": limit, "sent_unit": slot.unit, "target": watts,
              "state": State.PENDING}
    if row.tx_held is None or watts > row.tx_held:
        if watts > row.held:
            # Readings from before a raise show the lower draw it replaces (sites.power_readings).
            fields["raised_at"], fields["measured"] = timezone.now(), None
        # An increase counts from the moment it may arrive; a first TxProfile below the
        # fallback changes nothing until it is accepted (the EVSE is still on the fallback).
        fields["tx_held"] = max(watts, fallback_bound(row)) if row.tx_held is None else watts
    return _sent(row, fields, frame, command)


def _sent(row, fields, frame, command):
    """Record on the row (and in the database) what was just sent; the command's pk."""
    for name, value in fields.items():
        setattr(row, name, value)
    row.held = worst_case(row)
    SiteAllocation.objects.filter(pk=row.pk).update(**fields)
    refresh_held(SiteAllocation.objects.filter(pk=row.pk))
    frame["command"] = command.pk
    return command.pk


def send_fallback(site, slot, unit, limit, watts, frames, phase):
    """This EVSE's own fallback TxDefaultProfile (an EVSE-specific TxDefaultProfile replaces the
    station-wide one for that EVSE alone)."""
    row = slot.row
    data = {"evse_id": row.evse_id, "stack_level": slot.member.stack_level,
            "purpose": Purpose.TX_DEFAULT, "kind": ChargingProfile.Kind.ABSOLUTE,
            "charging_profile_id": (row.fallback_profile.charging_profile_id
                                    if row.fallback_profile_id else None),
            "schedules": [{"chargingRateUnit": unit, "startSchedule": FALLBACK_START,
                           "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}]}
    profile, command = _send(slot.member.station, data, f"site:{site.pk}:fallback")
    frame = {"station": slot.member.station.identity, "evse_id": row.evse_id,
             "purpose": "TxDefaultProfile", "limit": limit, "unit": unit, "watts": watts,
             "phase": phase}
    frames.append(frame)
    if profile is None:
        frame["status"] = "invalid"
        frame["reason"] = command
        return None
    fields = {"fallback_profile": profile, "fallback_stale": False}
    if row.fallback_held is not None and watts > row.fallback_held:
        fields["fallback_held"] = watts  # an increase counts from the moment it may arrive
    return _sent(row, fields, frame, command)


# --- answers -------------------------------------------------------------------------------------

def _sent_before_boot(command, station):
    booted = station.last_boot_at
    return booted is not None and command.sent_at is not None and command.sent_at < booted


def apply_answer(command):
    """A station's answer to a site profile: accepted, the EVSE holds the limit sent; refused or
    unanswered, it keeps being counted at what it held before (the larger). Idempotent, and an
    accept from before the station's last boot is not applied (it may hold it no longer; the
    round re-applies what it waited for, which would undo member_booted's mark)."""
    if command.action != "SetChargingProfile" or command.status not in Command.FINISHED:
        return
    profile = ChargingProfile.objects.filter(command=command).only("pk").first()
    if profile is None:
        return
    accepted = command.status == Status.ACCEPTED
    failed_state = State.REJECTED if command.status == Status.REJECTED else State.UNANSWERED
    for row in SiteAllocation.objects.filter(profile=profile).select_related("site"):
        mine = SiteAllocation.objects.filter(pk=row.pk, profile=profile)
        if accepted:
            mine.update(tx_held=to_watts(row.sent_limit, row.sent_unit, row.site),
                        state=State.HELD, updated_at=timezone.now())
        else:
            mine.update(state=failed_state, updated_at=timezone.now())
        refresh_held(SiteAllocation.objects.filter(pk=row.pk))
    for row in SiteAllocation.objects.filter(fallback_profile=profile).select_related(
            "site", "station"):
        if _sent_before_boot(command, row.station):
            continue
        mine = SiteAllocation.objects.filter(pk=row.pk, fallback_profile=profile)
        if accepted:
            schedule = ChargingProfile.objects.get(pk=profile.pk).schedules[0]
            held = to_watts(float(schedule["chargingSchedulePeriod"][0]["limit"]),
                            schedule["chargingRateUnit"], row.site)
            mine.update(fallback_held=held, fallback_stale=False)
            mine.filter(transaction__isnull=True).update(state=State.HELD)
        else:
            # Tried again next round; meanwhile the EVSE counts at what it held before.
            mine.update(fallback_stale=True)
            mine.filter(transaction__isnull=True).update(state=failed_state)
        refresh_held(SiteAllocation.objects.filter(pk=row.pk))


def wait_for_answers(command_pks, deadline):
    """Poll until every command is answered or the deadline passes; apply the answered ones and
    return {command pk: status}."""
    pending = set(command_pks)
    while pending and time.monotonic() < deadline:
        done = set(Command.objects.filter(pk__in=pending, status__in=Command.FINISHED)
                   .values_list("pk", flat=True))
        pending -= done
        if pending:
            time.sleep(POLL_SECONDS)
    answered = Command.objects.filter(pk__in=set(command_pks) - pending)
    for command in answered:
        apply_answer(command)
    return {command.pk: command.status for command in answered}
