"""A site's reallocation round: share the limit between running transactions and send the
profiles so that what the stations are allowed never sums above the limit, in flight included:
every decrease first, its answers awaited, then the increases, cut to what is left."""
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q, Value
from django.db.models.functions import Least
from django.utils import timezone

from csms.models import Command
from csms.ocpp import bridge
from stations.actions import DASHBOARD_GROUP

from .. import allocation
from ..models import ChargingProfile, Site, SiteAllocation, SiteMember
from . import site_inputs
from .site_inputs import in_station_unit, to_watts

logger = logging.getLogger(__name__)
State = SiteAllocation.State
Purpose = ChargingProfile.Purpose
Status = Command.Status
FAILED = {Status.ERROR, Status.TIMEOUT, Status.OFFLINE}
# The fallback TxDefaultProfile starts long ago, so no station clock puts it in its future.
FALLBACK_START = "2020-01-01T00:00:00Z"
POLL_SECONDS = 0.02
# A round that ends with more held than the limit is followed by another this soon.
OVER_LIMIT_RETRY_SECONDS = 30.0


@dataclass
class Slot:
    """One member EVSE in a round."""
    row: SiteAllocation
    member: SiteMember
    transaction: object  # the running Transaction, or None when idle
    unit: str


def idle_bound(member, maximum):
    """What an idle EVSE of the member may draw: its fallback once accepted, else its maximum."""
    return maximum if member.fallback_held is None else min(member.fallback_held, maximum)


def _fallback_state(member):
    profile = member.fallback_profile
    if profile is None:
        return State.PENDING
    return {ChargingProfile.State.INSTALLED: State.HELD, ChargingProfile.State.REJECTED:
            State.REJECTED, ChargingProfile.State.ERROR: State.UNANSWERED}.get(profile.state,
                                                                                 State.PENDING)


# --- answers -------------------------------------------------------------------------------------

def apply_answer(command):
    """A station's answer to a site profile: accepted, the row holds the limit sent; refused or
    unanswered, it keeps being counted at what it held before (the larger). Idempotent."""
    if command.action != "SetChargingProfile" or command.status not in Command.FINISHED:
        return
    profile = ChargingProfile.objects.filter(command=command).only("pk").first()
    if profile is None:
        return
    for row in SiteAllocation.objects.filter(profile=profile):
        if command.status == Status.ACCEPTED:
            held = to_watts(row.sent_limit, row.sent_unit, row.site)
            SiteAllocation.objects.filter(pk=row.pk, profile=profile).update(
                held=held, state=State.HELD, updated_at=timezone.now())
        else:
            SiteAllocation.objects.filter(pk=row.pk, profile=profile).update(
                state=State.REJECTED if command.status == Status.REJECTED else State.UNANSWERED,
                updated_at=timezone.now())
    for member in SiteMember.objects.filter(fallback_profile=profile).select_related(
            "site", "station"):
        if _sent_before_boot(command, member.station):
            # Accepted before the station rebooted: it may hold it no longer. Applying it again
            # (the round re-applies what it waited for) would undo member_booted's mark.
            continue
        if command.status == Status.ACCEPTED:
            schedule = ChargingProfile.objects.get(pk=profile.pk).schedules[0]
            held = to_watts(float(schedule["chargingSchedulePeriod"][0]["limit"]),
                            schedule["chargingRateUnit"], member.site)
            if SiteMember.objects.filter(pk=member.pk, fallback_profile=profile).update(
                    fallback_held=held, fallback_stale=False):
                idle_rows(member).update(held=Least(F("maximum"), Value(held)), state=State.HELD)
        else:
            # Try again next round; meanwhile the EVSEs count at what they held before.
            SiteMember.objects.filter(pk=member.pk).update(fallback_stale=True)
            idle_rows(member).update(state=State.REJECTED if command.status == Status.REJECTED
                                     else State.UNANSWERED)


def _sent_before_boot(command, station):
    booted = station.last_boot_at
    return booted is not None and command.sent_at is not None and command.sent_at < booted


def idle_rows(member):
    return SiteAllocation.objects.filter(site_id=member.site_id, station_id=member.station_id,
                                         transaction__isnull=True)


def _wait(command_pks, deadline):
    """Poll until every command is answered or the deadline passes; the answered ones."""
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


# --- sending -------------------------------------------------------------------------------------

def _stack_level(limits):
    level = settings.SMARTCHARGING_SITE_STACK_LEVEL
    known = limits["stack_level"]
    return level if known is None else min(level, known)


def _send(station, data, source):
    """SetChargingProfile; (profile, command) or (None, reason) when it cannot be sent."""
    from .. import commands  # commands imports this package

    try:
        return commands.set_charging_profile(station, data, source=source)
    except Exception as error:  # invalid here (a transaction just ended), never connected, ...
        reasons = getattr(error, "reasons", None) or [str(error)]
        return None, "; ".join(str(reason) for reason in reasons)


def _send_tx_profile(site, slot, limit, watts, frames, phase):
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
    if watts > row.held:
        fields["held"] = watts  # an increase counts from the moment it may arrive
        # Readings from before it show the lower draw it replaces (see sites.power_readings).
        fields["raised_at"], fields["measured"] = timezone.now(), None
    for name, value in fields.items():
        setattr(row, name, value)
    SiteAllocation.objects.filter(pk=row.pk).update(**fields)
    frame["command"] = command.pk
    return command.pk


def _send_fallback(site, member, unit, limit, watts, frames, phase):
    data = {"evse_id": 0, "stack_level": member.stack_level,
            "purpose": Purpose.TX_DEFAULT, "kind": ChargingProfile.Kind.ABSOLUTE,
            "charging_profile_id": (member.fallback_profile.charging_profile_id
                                    if member.fallback_profile_id else None),
            "schedules": [{"chargingRateUnit": unit, "startSchedule": FALLBACK_START,
                           "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}]}
    profile, command = _send(member.station, data, f"site:{site.pk}:fallback")
    frame = {"station": member.station.identity, "evse_id": 0, "purpose": "TxDefaultProfile",
             "limit": limit, "unit": unit, "watts": watts, "phase": phase}
    frames.append(frame)
    if profile is None:
        frame["status"] = "invalid"
        frame["reason"] = command
        return None
    fields = {"fallback_profile": profile, "fallback_stale": False}
    if member.fallback_held is not None and watts > member.fallback_held:
        fields["fallback_held"] = watts
    for name, value in fields.items():
        setattr(member, name, value)
    SiteMember.objects.filter(pk=member.pk).update(**fields)
    frame["command"] = command.pk
    return command.pk


# --- the round -----------------------------------------------------------------------------------

def _slots(site, members, running, fallback_w):
    """Allocation rows for every member EVSE (created, moved to the running transaction, or
    dropped with their station), as Slots."""
    existing = {(row.station_id, row.evse_id): row
                for row in site.allocations.select_related("profile")}
    slots, created, changed, kept = [], [], [], set()
    for member in members:
        unit = member.unit
        evse_ids = set(member.evse_ids) | {place for (station_pk, place) in running
                                           if station_pk == member.station_id}
        for evse_id in sorted(evse_ids):
            kept.add((member.station_id, evse_id))
            maximum = site_inputs.evse_maximum(member, evse_id, fallback_w)
            transaction = running.get((member.station_id, evse_id))
            row = existing.get((member.station_id, evse_id))
            if row is None:
                row = SiteAllocation(site=site, station=member.station, evse_id=evse_id)
                row.transaction_id = None
                created.append(row)
            else:
                changed.append(row)
            row.station = member.station
            row.maximum = maximum
            if row.transaction_id != (transaction.pk if transaction else None) or row.pk is None:
                # A session began or ended here: the EVSE is on its fallback (or its maximum).
                row.transaction = transaction
                row.profile = None
                row.sent_limit, row.sent_unit = None, ""
                row.held = idle_bound(member, maximum)
                row.target, row.measured = 0.0, None
                row.state = _fallback_state(member) if transaction is None else State.PENDING
                row.previous = None
            else:
                row.previous = row.target if transaction is not None else None
            if transaction is None:
                row.held = idle_bound(member, maximum)
                row.target = min(fallback_w, maximum)
                row.state = _fallback_state(member)
                row.priority = 0
            else:
                row.priority = transaction.id_token.charging_priority \
                    if transaction.id_token_id else 0
            slots.append(Slot(row, member, transaction, unit))
    fields = ["station", "maximum", "transaction", "profile", "sent_limit", "sent_unit", "held",
              "target", "measured", "state", "priority"]
    # Rows of stations that left, or of EVSEs the station no longer has.
    gone = [row.pk for key, row in existing.items() if key not in kept]
    if gone:
        SiteAllocation.objects.filter(pk__in=gone).delete()
    SiteAllocation.objects.bulk_create(created)
    SiteAllocation.objects.bulk_update(changed, fields)
    return slots


def _cut(increases, room):
    """Cut the wanted increases [(priority, key, wanted W)] to `room` W: higher priorities first,
    the rest shared in proportion within a priority. {key: W granted}."""
    granted = {}
    room = max(room, 0.0)
    for priority in sorted({item[0] for item in increases}, reverse=True):
        tier = [item for item in increases if item[0] == priority]
        wanted = sum(item[2] for item in tier)
        factor = 1.0 if wanted <= room else room / wanted
        for _, key, amount in tier:
            granted[key] = amount * factor
        room = max(room - wanted * factor, 0.0)
    return granted


def run_round(site, started):
    """One round on a site the caller holds the lease of; the summary it records."""
    now = timezone.now()
    timings = {}
    limit_w, next_change = site_inputs.site_limit(site, now)
    members = list(site.members.select_related("station", "fallback_profile").prefetch_related(
        "station__evses", "station__connectors"))
    for member in members:
        limits = site_inputs.station_limits(member.station)
        member.evse_ids = site_inputs.member_evse_ids(member.station)
        member.unit = site_inputs.station_unit(member, limits)
        member.stack_level = _stack_level(limits)
    evse_count = sum(len(member.evse_ids) for member in members)
    fallback_w = site_inputs.fallback_watts(site, evse_count)
    running = site_inputs.running_transactions([member.station for member in members])
    slots = _slots(site, members, running, fallback_w)

    # Every idle EVSE may start a session and draw its fallback: counted at the larger of what
    # it holds and the fallback about to be sent.
    fallback_plan = {}
    for member in members:
        limit, watts = in_station_unit(fallback_w, member.unit, site)
        fallback_plan[member.pk] = (member.unit, limit, watts)
    idle = [slot for slot in slots if slot.transaction is None]
    busy = [slot for slot in slots if slot.transaction is not None]
    idle_sum = sum(max(slot.row.held, min(fallback_plan[slot.member.pk][2], slot.row.maximum))
                   for slot in idle)
    budget = max(limit_w - idle_sum, 0.0)
    # A station that refused or did not answer last time keeps its count; it is asked again.
    stuck = [slot for slot in busy if slot.row.state in (State.REJECTED, State.UNANSWERED)
             and slot.row.sent_limit is not None]
    stuck_rows = {id(slot) for slot in stuck}
    normal = [slot for slot in busy if id(slot) not in stuck_rows]
    stuck_sum = sum(slot.row.held for slot in stuck)
    needs = site_inputs.latest_ev_needs([slot.transaction for slot in normal])
    demands = [site_inputs.demand_of(
        slot.row, slot.transaction, needs.get((slot.member.station_id, slot.row.evse_id)),
        slot.row.previous, site) for slot in normal]
    shares = allocation.allocate(max(budget - stuck_sum, 0.0), demands)
    timings["compute_ms"] = round((time.monotonic() - started) * 1000, 1)

    plan = []  # (slot, limit, watts)
    for slot in normal:
        limit, watts = in_station_unit(shares.get(slot.row.pk, 0.0), slot.unit, site)
        plan.append((slot, limit, watts))
    for slot in stuck:
        if slot.row.sent_limit is not None and slot.row.sent_unit == slot.unit:
            plan.append((slot, slot.row.sent_limit, to_watts(slot.row.sent_limit, slot.unit, site)))

    def unchanged(slot, limit):
        row = slot.row
        return (row.profile_id and row.state == State.HELD and row.sent_limit == limit
                and row.sent_unit == slot.unit)

    def fallback_unchanged(member, unit, limit):
        profile = member.fallback_profile
        if member.fallback_stale or profile is None or member.fallback_held is None:
            return False
        schedule = profile.schedules[0]
        return (profile.state == ChargingProfile.State.INSTALLED
                and schedule["chargingRateUnit"] == unit
                and float(schedule["chargingSchedulePeriod"][0]["limit"]) == limit)

    frames = []
    deadline_after = 2 * settings.OCPP_CALL_TIMEOUT + 2
    # Phase 1: every decrease (and every resend that raises nothing).
    lower = [(slot, limit, watts) for slot, limit, watts in plan
             if not unchanged(slot, limit) and watts <= slot.row.held]
    raise_later = [(slot, limit, watts) for slot, limit, watts in plan
                   if not unchanged(slot, limit) and watts > slot.row.held]
    fallback_lower, fallback_raise = [], []
    for member in members:
        unit, limit, watts = fallback_plan[member.pk]
        if fallback_unchanged(member, unit, limit):
            continue
        current = member.fallback_held
        (fallback_lower if current is None or watts <= current else fallback_raise).append(member)
    phase_started = time.monotonic()
    sent = []
    for slot, limit, watts in lower:
        sent.append(_send_tx_profile(site, slot, limit, watts, frames, "decrease"))
    for member in fallback_lower:
        unit, limit, watts = fallback_plan[member.pk]
        sent.append(_send_fallback(site, member, unit, limit, watts, frames, "decrease"))
    answers = _wait([pk for pk in sent if pk], time.monotonic() + deadline_after)
    timings["decreases_ms"] = round((time.monotonic() - phase_started) * 1000, 1)

    # Phase 2: raise within what the answers left: held (refusals at what they held) + raises.
    rows = {row.pk: row for row in SiteAllocation.objects.filter(site=site)}
    fresh_members = {member.pk: member for member in
                     SiteMember.objects.filter(site=site).select_related("station",
                                                                         "fallback_profile")}
    for slot in slots:
        fresh = rows.get(slot.row.pk)
        if fresh is not None:
            slot.row.held, slot.row.state = fresh.held, fresh.state
        member = fresh_members.get(slot.member.pk)
        if member is not None:
            slot.member.fallback_held = member.fallback_held
            if slot.transaction is None:
                slot.row.held = idle_bound(slot.member, slot.row.maximum)
    held_sum = sum(slot.row.held for slot in slots)
    room = limit_w - held_sum
    wanted = [(slot.row.priority, ("tx", index), watts - slot.row.held)
              for index, (slot, limit, watts) in enumerate(raise_later) if watts > slot.row.held]
    # Fallbacks rise last: below every transaction's priority. A session without an accepted
    # TxProfile draws on the fallback too, so a member with one keeps its fallback this round.
    unsettled = {slot.member.pk for slot in busy if slot.row.state != State.HELD}
    fallback_raise = [member for member in fallback_raise if member.pk not in unsettled]
    lowest = min([slot.row.priority for slot in busy] + [0]) - 1
    for member in fallback_raise:
        count = sum(1 for slot in idle if slot.member.pk == member.pk)
        current = member.fallback_held if member.fallback_held is not None else 0.0
        wanted.append((lowest, ("fallback", member.pk),
                       max(fallback_plan[member.pk][2] - current, 0.0) * count))
    granted = _cut(wanted, room)
    phase_started = time.monotonic()
    sent = []
    for index, (slot, limit, watts) in enumerate(raise_later):
        extra = granted.get(("tx", index), 0.0)
        if extra < watts - slot.row.held:
            limit, watts = in_station_unit(slot.row.held + extra, slot.unit, site)
            if watts <= slot.row.held:
                continue  # no room yet: it keeps what it holds until a later round
        sent.append(_send_tx_profile(site, slot, limit, watts, frames, "increase"))
    for member in fallback_raise:
        count = sum(1 for slot in idle if slot.member.pk == member.pk)
        current = member.fallback_held if member.fallback_held is not None else 0.0
        full = max(fallback_plan[member.pk][2] - current, 0.0) * count
        if granted.get(("fallback", member.pk), 0.0) + 1e-6 < full:
            continue  # no room yet: the next round raises it
        unit, limit, watts = fallback_plan[member.pk]
        sent.append(_send_fallback(site, member, unit, limit, watts, frames, "increase"))
    answers.update(_wait([pk for pk in sent if pk], time.monotonic() + deadline_after))
    timings["increases_ms"] = round((time.monotonic() - phase_started) * 1000, 1)

    for frame in frames:
        if "command" in frame:
            frame["status"] = answers.get(frame["command"], "unanswered")
    members_now = {member.station_id: member for member in SiteMember.objects.filter(site=site)}
    total = 0.0
    for row in SiteAllocation.objects.filter(site=site):
        member = members_now.get(row.station_id)
        if row.transaction_id is None and member is not None:
            held = idle_bound(member, row.maximum)
            if held != row.held:
                SiteAllocation.objects.filter(pk=row.pk).update(held=held)
            row.held = held
        total += row.held
    timings["total_ms"] = round((time.monotonic() - started) * 1000, 1)
    return {
        "round": site.rounds + 1, "at": now.isoformat(), "limit": limit_w, "budget": budget,
        "fallback": fallback_w, "held_sum": total, "over_limit": total > limit_w + 1e-6,
        "next_change_at": next_change.isoformat() if next_change else None,
        "transactions": len(busy), "idle_evses": len(idle), "frames": frames, "timings": timings,
        # Fallbacks lowered this round were counted at their old value: share what they freed.
        "follow_up": any(frame.get("purpose") == "TxDefaultProfile"
                         and frame.get("phase") == "decrease"
                         and frame.get("status") == Command.Status.ACCEPTED for frame in frames),
    }, next_change


def claim(site_pk, due_only):
    """Take the site's round lease (clearing the debounce); False when another round holds it,
    or, with `due_only`, when no round is due."""
    now = timezone.now()
    # Longer than a round can last (two phases, each waiting at most 2 × the call timeout + 2 s,
    # plus sending), so two rounds of a site never overlap.
    lease = timedelta(seconds=6 * settings.OCPP_CALL_TIMEOUT + 120)
    free = Site.objects.filter(pk=site_pk, enabled=True).filter(
        Q(round_lease_until__isnull=True) | Q(round_lease_until__lt=now))
    if due_only:
        free = free.filter(reallocation_due_at__isnull=False)
    return free.update(round_lease_until=now + lease, reallocation_due_at=None) == 1


def reallocate_site(site_pk, due_only=False):
    """Run one round now, in this thread (it waits for the stations' answers, at most about
    2 × 2 × OCPP_CALL_TIMEOUT): the summary, or None when another round runs or the site is
    disabled or gone (due_only: or when no round is due)."""
    started = time.monotonic()
    if not claim(site_pk, due_only):
        return None
    site = Site.objects.get(pk=site_pk)
    summary, next_change = None, None
    try:
        summary, next_change = run_round(site, started)
    except Exception:
        logger.exception("site %s: reallocation round failed", site_pk)
        raise
    finally:
        fields = {"round_lease_until": None}
        if summary is not None:
            fields.update(rounds=F("rounds") + 1, last_round_at=timezone.now(), last_round=summary,
                          limit_next_change_at=next_change)
        Site.objects.filter(pk=site_pk).update(**fields)
        bridge.group_send(DASHBOARD_GROUP, {"type": "site.update", "site": site_pk})
        # A trigger during the round found it running: the round it asked for follows now.
        due = Site.objects.filter(pk=site_pk).values_list("reallocation_due_at", flat=True).first()
        if due is not None:
            from .sites import dispatch

            dispatch(site_pk, max((due - timezone.now()).total_seconds(), 0.0))
    if summary.get("follow_up") and not summary["over_limit"]:
        from .sites import request_reallocation

        request_reallocation(site_pk)
    if summary["over_limit"]:
        # Refusals or silence left more held than the limit: ask them again soon.
        logger.warning("site %s: stations held %.0f W for a %.0f W limit after the round",
                       site_pk, summary["held_sum"], summary["limit"])
        from .sites import request_reallocation

        request_reallocation(site_pk, delay=OVER_LIMIT_RETRY_SECONDS)
    return summary
