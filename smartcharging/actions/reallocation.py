"""A site's reallocation round: share the limit between running transactions and send the
profiles so that what the stations are allowed never sums above the limit, in flight included:
every decrease first, its answers awaited, then the increases, cut to what is left."""
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from csms.models import Command
from csms.ocpp import bridge
from stations.actions import DASHBOARD_GROUP

from .. import allocation
from ..models import Site, SiteAllocation, SiteMember
from . import site_inputs
from .site_inputs import in_station_unit, to_watts
from .site_profiles import (
    fallback_bound, fallback_state, fallback_unchanged, refresh_held,
    send_fallback, send_tx_profile, wait_for_answers, worst_case,
)

logger = logging.getLogger(__name__)
State = SiteAllocation.State
# A round that ends with more held than the limit is followed by another this soon.
OVER_LIMIT_RETRY_SECONDS = 30.0


@dataclass
class Slot:
    """One member EVSE in a round."""
    row: SiteAllocation
    member: SiteMember
    transaction: object  # the running Transaction, or None when idle
    unit: str


def _stack_level(limits):
    level = settings.SMARTCHARGING_SITE_STACK_LEVEL
    known = limits["stack_level"]
    return level if known is None else min(level, known)


# --- the round -----------------------------------------------------------------------------------

def _slots(site, members, running, fallback_w):
    """Allocation rows for every member EVSE (created, moved to the running transaction, or
    dropped with their station), as Slots."""
    existing = {(row.station_id, row.evse_id): row
                for row in site.allocations.select_related("profile", "fallback_profile")}
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
                # A session began or ended here: the station dropped any TxProfile, and the EVSE
                # is on its own fallback (or its maximum), which was kept at or below its share.
                row.transaction = transaction
                row.profile, row.tx_held = None, None
                row.sent_limit, row.sent_unit = None, ""
                row.target, row.measured = 0.0, None
                row.state = fallback_state(row) if transaction is None else State.PENDING
                row.previous = None
            else:
                row.previous = row.target if transaction is not None else None
            if transaction is None:
                row.target = min(fallback_w, maximum)
                row.state = fallback_state(row)
                row.priority = 0
            else:
                row.priority = transaction.id_token.charging_priority \
                    if transaction.id_token_id else 0
            row.held = worst_case(row)
            slots.append(Slot(row, member, transaction, unit))
    fields = ["station", "maximum", "transaction", "profile", "tx_held", "sent_limit",
              "sent_unit", "held", "target", "measured", "state", "priority"]
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
    members = list(site.members.select_related("station").prefetch_related(
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
    fallback_plan = {member.pk: in_station_unit(fallback_w, member.unit, site) for member in members}
    idle = [slot for slot in slots if slot.transaction is None]
    busy = [slot for slot in slots if slot.transaction is not None]
    idle_sum = sum(max(slot.row.held, min(fallback_plan[slot.member.pk][1], slot.row.maximum))
                   for slot in idle)
    budget = max(limit_w - idle_sum, 0.0)
    # A station that refused or did not answer last time keeps its count; it is asked again.
    stuck = [slot for slot in busy if slot.row.state in (State.REJECTED, State.UNANSWERED)
             and slot.row.sent_limit is not None]
    stuck_rows = {id(slot) for slot in stuck}
    normal = [slot for slot in busy if id(slot) not in stuck_rows]
    stuck_sum = sum(slot.row.held for slot in stuck)
    needs = site_inputs.latest_ev_needs([slot.transaction for slot in normal])
    external = site_inputs.external_limits(running, site, now)
    demands = [site_inputs.demand_of(
        slot.row, slot.transaction, needs.get((slot.member.station_id, slot.row.evse_id)),
        slot.row.previous, site, external.get((slot.member.station_id, slot.row.evse_id)))
        for slot in normal]
    shares = allocation.allocate(max(budget - stuck_sum, 0.0), demands)
    timings["compute_ms"] = round((time.monotonic() - started) * 1000, 1)

    plans = [_plan(slot, shares, fallback_plan, site) for slot in slots]
    frames = []
    deadline_after = 2 * settings.OCPP_CALL_TIMEOUT + 2
    # Phase 1: every decrease (and every resend that raises nothing).
    phase_started = time.monotonic()
    sent, idle_fallback_lowered = [], set()
    for plan in plans:
        if plan.tx and plan.tx_lowers():
            sent.append(send_tx_profile(site, plan.slot, *plan.tx, frames, "decrease"))
        if plan.fallback and plan.fallback_lowers():
            command = send_fallback(site, plan.slot, plan.slot.unit, *plan.fallback, frames,
                                    "decrease")
            sent.append(command)
            if plan.slot.transaction is None:
                idle_fallback_lowered.add(command)
    answers = wait_for_answers([pk for pk in sent if pk], time.monotonic() + deadline_after)
    timings["decreases_ms"] = round((time.monotonic() - phase_started) * 1000, 1)

    # Phase 2: raise within what the answers left: held (refusals at what they held) + raises.
    fresh = {row.pk: row for row in SiteAllocation.objects.filter(site=site)}
    for slot in slots:
        row = fresh.get(slot.row.pk)
        if row is not None:
            for name in ("held", "state", "tx_held", "fallback_held"):
                setattr(slot.row, name, getattr(row, name))
    room = limit_w - sum(slot.row.held for slot in slots)
    # Idle EVSEs' fallbacks rise last: below every transaction's priority.
    lowest = min([slot.row.priority for slot in busy] + [0]) - 1
    rising = [plan for plan in plans if plan.raises()]
    wanted = [(plan.slot.row.priority if plan.slot.transaction else lowest, index, plan.cost())
              for index, plan in enumerate(rising)]
    granted = _cut(wanted, room)
    phase_started = time.monotonic()
    sent = []
    for index, plan in enumerate(rising):
        extra = granted.get(index, 0.0)
        if extra + 1e-6 >= plan.cost():
            tx, fallback = plan.tx if plan.tx_raises() else None, plan.fallback_if_raises()
        elif plan.slot.transaction is not None and plan.tx_raises():
            # Part of the raise: the TxProfile up to what was granted, the fallback not above it.
            tx = in_station_unit(plan.slot.row.held + extra, plan.slot.unit, site)
            if tx[1] <= plan.tx_now():
                continue  # no room yet: it keeps what it holds until a later round
            fallback = plan.fallback_if_raises(cap=tx[1])
        else:
            continue  # an idle EVSE's fallback rises whole, in a later round
        if tx:
            sent.append(send_tx_profile(site, plan.slot, *tx, frames, "increase"))
        if fallback:
            sent.append(send_fallback(site, plan.slot, plan.slot.unit, *fallback, frames,
                                      "increase"))
    answers.update(wait_for_answers([pk for pk in sent if pk], time.monotonic() + deadline_after))
    timings["increases_ms"] = round((time.monotonic() - phase_started) * 1000, 1)

    for frame in frames:
        if "command" in frame:
            frame["status"] = answers.get(frame["command"], "unanswered")
    rows = SiteAllocation.objects.filter(site=site)
    refresh_held(rows)
    total = sum(rows.values_list("held", flat=True))
    timings["total_ms"] = round((time.monotonic() - started) * 1000, 1)
    return {
        "round": site.rounds + 1, "at": now.isoformat(), "limit": limit_w, "budget": budget,
        "fallback": fallback_w, "held_sum": total, "over_limit": total > limit_w + 1e-6,
        "next_change_at": next_change.isoformat() if next_change else None,
        "transactions": len(busy), "idle_evses": len(idle), "frames": frames, "timings": timings,
        # Idle fallbacks lowered this round were counted at their old value: share what they
        # freed.
        "follow_up": any(answers.get(pk) == Command.Status.ACCEPTED
                         for pk in idle_fallback_lowered if pk),
    }, next_change


@dataclass
class EvsePlan:
    """What one EVSE should hold after the round: its TxProfile (limit, W) when running, and its
    fallback (limit, W), never above the TxProfile (the station falls back to it when the
    session ends)."""
    slot: Slot
    site: Site
    tx: tuple = None
    fallback: tuple = None

    def tx_now(self):
        row = self.slot.row
        return fallback_bound(row) if row.tx_held is None else row.tx_held

    def tx_unchanged(self):
        row = self.slot.row
        return (row.profile_id and row.state == State.HELD and row.sent_limit == self.tx[0]
                and row.sent_unit == self.slot.unit)

    def tx_lowers(self):
        return not self.tx_unchanged() and self.tx[1] <= self.tx_now()

    def tx_raises(self):
        return self.tx is not None and not self.tx_unchanged() and self.tx[1] > self.tx_now()

    def fallback_changes(self):
        return not fallback_unchanged(self.slot.row, self.slot.unit, self.fallback[0])

    def fallback_lowers(self):
        held = self.slot.row.fallback_held
        return self.fallback_changes() and (held is None or self.fallback[1] <= held)

    def fallback_if_raises(self, cap=None):
        """The fallback to send in the raise phase (capped at `cap` W), or None."""
        if self.fallback is None or not self.fallback_changes():
            return None
        held = self.slot.row.fallback_held
        fallback = self.fallback
        if cap is not None and fallback[1] > cap:
            fallback = in_station_unit(cap, self.slot.unit, self.site)
        return fallback if held is not None and fallback[1] > held else None

    def raises(self):
        return self.tx_raises() or self.fallback_if_raises() is not None

    def cost(self):
        """How much more the EVSE is counted at once both raises are sent (W)."""
        row = self.slot.row
        fallback = self.fallback_if_raises()
        fallback_w = fallback[1] if fallback else row.fallback_held
        tx_w = self.tx[1] if self.tx_raises() else row.tx_held
        after = SiteAllocation(maximum=row.maximum, transaction_id=row.transaction_id,
                               tx_held=tx_w, fallback_held=fallback_w)
        return max(worst_case(after) - row.held, 0.0)


def _plan(slot, shares, fallback_plan, site):
    unit, row = slot.unit, slot.row
    fallback = fallback_plan[slot.member.pk]
    if slot.transaction is None:
        return EvsePlan(slot, site, fallback=fallback)
    if row.state in (State.REJECTED, State.UNANSWERED) and row.sent_limit is not None:
        if row.sent_unit != unit:
            return EvsePlan(slot, site)
        tx = (row.sent_limit, to_watts(row.sent_limit, unit, site))  # asked again
    else:
        tx = in_station_unit(shares.get(row.pk, 0.0), unit, site)
    if fallback[1] > tx[1]:
        fallback = in_station_unit(tx[1], unit, site)
    return EvsePlan(slot, site, tx=tx, fallback=fallback)


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
