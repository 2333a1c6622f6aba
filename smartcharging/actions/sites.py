"""Sites: when a reallocation round runs (debounced triggers, the beat's safety pass, a member's
boot) and where (a Celery worker, or a thread of this process on the embedded default)."""
import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction as db_transaction
from django.db.models import F, Q
from django.utils import timezone

from csms.ocpp.ingest import OncePerBatch

from .. import allocation
from ..models import Site, SiteAllocation, SiteMember
from .reallocation import reallocate_site
from .site_inputs import POWER_MEASURAND, power_of

logger = logging.getLogger(__name__)


def request_reallocation(site_pk, delay=None):
    """A round of this site is wanted: the first request of a burst opens the debounce window
    (SMARTCHARGING_REALLOCATION_DEBOUNCE_SECONDS) and dispatches the round; later ones join it.
    A request while a round runs is served by another round right after it."""
    delay = settings.SMARTCHARGING_REALLOCATION_DEBOUNCE_SECONDS if delay is None else delay
    due = timezone.now() + timedelta(seconds=delay)
    # A round due later (a retry) is brought forward; the dispatch that finds it gone does nothing.
    if Site.objects.filter(pk=site_pk, enabled=True).filter(
            Q(reallocation_due_at__isnull=True) | Q(reallocation_due_at__gt=due)).update(
            reallocation_due_at=due):
        dispatch(site_pk, delay)


def request_after_commit(site_pk, delay=None):
    """request_reallocation once the caller's database transaction commits (the round must see
    what the caller wrote)."""
    db_transaction.on_commit(lambda: request_reallocation(site_pk, delay))


def dispatch(site_pk, delay):
    """Run the due round in `delay` seconds: a Celery task, or on the embedded default (tasks
    run in the caller) a thread of this process, since a round waits for stations' answers and
    must not hold a station's message handler meanwhile."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        timer = threading.Timer(max(delay, 0.0), _run_in_thread, args=(site_pk,))
        timer.daemon = True
        timer.start()
        return
    from ..tasks import reallocate_site_task

    try:
        reallocate_site_task.apply_async((site_pk,), countdown=max(delay, 0.0))
    except Exception:  # broker away: the beat's pass finds the overdue round
        logger.exception("site %s: reallocation not queued; the safety pass will run it", site_pk)


def _run_in_thread(site_pk):
    close_old_connections()
    try:
        run_due_round(site_pk)
    except Exception:
        logger.exception("site %s: reallocation round failed", site_pk)
    finally:
        connection.close()


def run_due_round(site_pk):
    """The debounced round, if it is still due and no other round runs (that one dispatches
    the next when it ends)."""
    return reallocate_site(site_pk, due_only=True)


def safety_pass(now=None):
    """The beat: a round for every site whose limit is about to change, whose last round is older
    than SMARTCHARGING_SITE_REFRESH_SECONDS, or whose debounced round was never run (lost task)."""
    now = now or timezone.now()
    refresh = timedelta(seconds=settings.SMARTCHARGING_SITE_REFRESH_SECONDS)
    lost = now - timedelta(seconds=settings.SMARTCHARGING_REALLOCATION_DEBOUNCE_SECONDS + 10)
    started = []
    for site in Site.objects.filter(enabled=True).only(
            "pk", "reallocation_due_at", "limit_next_change_at", "last_round_at",
            "round_lease_until"):
        if site.round_lease_until and site.round_lease_until > now:
            continue
        if site.reallocation_due_at is not None:
            if site.reallocation_due_at <= lost:
                dispatch(site.pk, 0)
                started.append(site.pk)
        elif ((site.limit_next_change_at and site.limit_next_change_at <= now)
              or site.last_round_at is None or site.last_round_at <= now - refresh):
            request_reallocation(site.pk, delay=0)
            started.append(site.pk)
    return started


# --- triggers ------------------------------------------------------------------------------------

def site_of_station(station_pk):
    return SiteMember.objects.filter(station_id=station_pk, site__enabled=True).values_list(
        "site_id", flat=True).first()


def station_changed(station_pk):
    """Something that changes a member station's demand happened (a session started or ended,
    an EV told its needs): reallocate its site after the current database transaction."""
    site_pk = site_of_station(station_pk)
    if site_pk is not None:
        request_after_commit(site_pk)


def member_booted(station_pk):
    """A member (re)booted: it may have lost its profiles, so until it accepts them again its
    EVSEs count at their maximum and get their fallback and TxProfiles again."""
    member = SiteMember.objects.filter(station_id=station_pk).first()
    if member is None:
        return
    # The fallback profiles keep their rows: the next ones reuse their ids (and replace them).
    SiteAllocation.objects.filter(station_id=station_pk).update(
        held=F("maximum"), profile=None, tx_held=None, sent_limit=None, sent_unit="",
        fallback_held=None, fallback_stale=True, state=SiteAllocation.State.UNANSWERED)
    request_after_commit(member.site_id)


def member_changed(member):
    """A member's EVSE maximum or unit changed: its fallbacks are sent again and the site gets a
    round, after the caller's transaction."""
    SiteAllocation.objects.filter(site_id=member.site_id, station_id=member.station_id).update(
        fallback_stale=True)
    request_after_commit(member.site_id)


# A station clock further than this from ours is not trusted to date its readings.
CLOCK_TRUST = timedelta(minutes=5)
# With an untrusted clock, readings arriving this long after a raise may predate it.
RAISE_SETTLE = timedelta(seconds=30)


def _taken_before(reading_time, raised_at):
    now = timezone.now()
    if abs(now - reading_time) <= CLOCK_TRUST:
        return reading_time < raised_at
    return now - raised_at < RAISE_SETTLE


def _read_allocated_transactions():
    return set(SiteAllocation.objects.filter(transaction__isnull=False)
               .values_list("transaction_id", flat=True))


# Which transactions hold a site allocation: read once per group-commit batch (registered in
# smartcharging.apps); only those readings look at their allocation row. Most are in no site.
allocated_transactions = OncePerBatch(_read_allocated_transactions)


def power_readings(transaction, rows):
    """New meter readings: a round when the transaction's Power.Active.Import changed markedly
    for its share: it crossed the allocator's reclaim line, or moved by more than half the ramp
    headroom (an EV capped at its draw plus the headroom that now draws it all gets more)."""
    if transaction is None:
        return
    power = [row for row in rows if row["measurand"] == POWER_MEASURAND and row["value"] is not None]
    if not power:
        return
    latest = max(row["timestamp"] for row in power)
    measured = power_of([{"phase": row["phase"], "value": row["value"]} for row in power
                         if row["timestamp"] == latest])
    if measured is None:
        return
    allocated = allocated_transactions.within_batch()  # outside a batch, the row lookup alone
    if allocated is not None and transaction.pk not in allocated:
        return
    # Every reading of a transaction in a site (or of any, outside a batch) asks this: one plain
    # statement rather than an ORM query (whose building cost more than the lookup); raw() still
    # converts the columns as the ORM does (SQLite's datetimes made aware).
    row = next(iter(SiteAllocation.objects.raw(
        "SELECT id, site_id, target, measured, raised_at FROM smartcharging_siteallocation"
        " WHERE transaction_id = %s LIMIT 1", [transaction.pk])), None)
    if row is None:
        return
    if row.raised_at is not None and _taken_before(latest, row.raised_at):
        # Taken before the station accepted its raise: the EV was held lower then, so the gap is
        # not power it leaves unused (counting it made every raise undo itself next round).
        return
    SiteAllocation.objects.filter(pk=row.pk).update(measured=measured)
    line = allocation.DEFAULT_RECLAIM_RATIO * row.target
    was_below = row.measured is not None and row.measured < line
    now_below = measured < line
    moved = row.measured is None or abs(measured - row.measured) > allocation.DEFAULT_RAMP_HEADROOM / 2
    if row.target > 0 and (was_below != now_below or moved):
        request_after_commit(row.site_id)


def site_changed(site_pk):
    """The site's limit, margin, fallback or members changed: a round (which sends every member
    a fallback whose value changed) runs after the debounce."""
    request_after_commit(site_pk)


def site_live(site):
    """The site now, as the API and pages show it: limit, fallback, budget and allocations."""
    from .site_inputs import fallback_watts, member_evse_ids, site_limit

    limit, next_change = site_limit(site, timezone.now())
    members = list(site.members.select_related("station"))
    fallback = fallback_watts(site, sum(len(member_evse_ids(m.station)) for m in members))
    rows = list(site.allocations.select_related("station", "transaction", "profile"))
    idle_held = sum(row.held for row in rows if row.transaction_id is None)
    return {"site": site.pk, "limit": limit, "next_change_at": next_change, "fallback": fallback,
            "idle_held": idle_held, "budget": max(limit - idle_held, 0.0),
            "held_sum": sum(row.held for row in rows), "rounds": site.rounds,
            "last_round_at": site.last_round_at, "last_round": site.last_round,
            "allocations": rows}


def remove_member(member, source=""):
    """A station leaves its site: the site's profiles on it are cleared (best effort: a station
    that does not answer keeps its fallback, which only limits it), its rows go, and the others
    get a round."""
    from .. import commands

    rows = SiteAllocation.objects.filter(site_id=member.site_id, station_id=member.station_id)
    profiles = [profile for row in rows.select_related("profile", "fallback_profile")
                for profile in (row.fallback_profile, row.profile)]
    for profile in profiles:
        if profile is not None and profile.state in profile.LIVE_STATES:
            try:
                commands.clear_profile(profile, source=source)
            except Exception as error:  # offline, never connected: nothing more to do
                logger.info("site %s: %s not cleared on leaving: %s", member.site_id, profile, error)
    site_pk = member.site_id
    SiteAllocation.objects.filter(site_id=site_pk, station_id=member.station_id).delete()
    member.delete()
    site_changed(site_pk)
