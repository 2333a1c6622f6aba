"""Smart charging in a simulated station: the charging profiles it holds per EVSE, their composite
limits (computed by smartcharging.composite, which needs no Django) and the power each EVSE draws."""

import asyncio
import contextlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from smartcharging.composite import (
    DEFAULT_NUMBER_PHASES,
    DEFAULT_VOLTAGE,
    ChargingProfile,
    ChargingSchedule,
    Period,
    compute_composite_schedule,
)

STATION_MAX = "ChargingStationMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
EXTERNAL = "ChargingStationExternalConstraints"
# Limits are planned this far ahead; a longer stretch without change is planned again after it.
HORIZON_S = 3600


def parse_time(text):
    """An OCPP date-time as an aware datetime (a time without zone is taken as UTC)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment):
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def watts(value, unit, phases=None):
    """A limit in W: amperes per phase x 230 V x phases (3 unless the period says)."""
    return value if unit == "W" else value * DEFAULT_VOLTAGE * (phases or DEFAULT_NUMBER_PHASES)


def in_unit(value_w, unit, phases=None):
    return value_w if unit == "W" else value_w / (DEFAULT_VOLTAGE * (phases or DEFAULT_NUMBER_PHASES))


def to_composite(evse_id, profile):
    """A 2.0.1 chargingProfile (dict) as the composite module's dataclass; ValueError if unusable."""
    try:
        schedules = tuple(
            ChargingSchedule(
                start_schedule=parse_time(schedule.get("startSchedule")),
                duration=schedule.get("duration"),
                unit=schedule["chargingRateUnit"],
                min_charging_rate=schedule.get("minChargingRate"),
                periods=tuple(
                    Period(p["startPeriod"], p["limit"], p.get("numberPhases"), p.get("phaseToUse"))
                    for p in schedule["chargingSchedulePeriod"]
                ),
            )
            for schedule in profile["chargingSchedule"]
        )
        transaction_id = profile.get("transactionId")
        return ChargingProfile(
            id=profile["id"],
            stack_level=profile["stackLevel"],
            purpose=profile["chargingProfilePurpose"],
            kind=profile["chargingProfileKind"],
            recurrency_kind=profile.get("recurrencyKind"),
            valid_from=parse_time(profile.get("validFrom")),
            valid_to=parse_time(profile.get("validTo")),
            transaction_id=None if transaction_id is None else str(transaction_id),
            schedules=schedules,
            evse_id=evse_id,
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"malformed profile: {error!r}") from None


@dataclass
class HeldProfile:
    evse_id: int
    profile: dict  # as a 2.0.1 chargingProfile, whatever version it arrived in
    parsed: ChargingProfile
    source: str = "CSO"


class HeldProfiles:
    """The profiles a station holds, by profile id, with the OCPP replacement rules."""

    def __init__(self):
        self.by_id = {}

    def __len__(self):
        return len(self.by_id)

    def install(self, evse_id, profile, source="CSO"):
        """Install (replacing the same id, or the same purpose + stackLevel on the same EVSE).
        Raises ValueError for a profile the composite cannot use."""
        parsed = to_composite(evse_id, profile)
        for profile_id, held in list(self.by_id.items()):
            same_slot = (
                held.evse_id == evse_id
                and held.parsed.purpose == parsed.purpose
                and held.parsed.stack_level == parsed.stack_level
            )
            if profile_id == parsed.id or same_slot:
                del self.by_id[profile_id]
        self.by_id[parsed.id] = HeldProfile(evse_id, dict(profile), parsed, source)

    def select(self, profile_ids=None, evse_id=None, purpose=None, stack_level=None, sources=None):
        purpose = "ChargingStationMaxProfile" if purpose == "ChargePointMaxProfile" else purpose
        return [
            held
            for held in self.by_id.values()
            if (profile_ids is None or held.parsed.id in profile_ids)
            and evse_id in (None, held.evse_id)
            and purpose in (None, held.parsed.purpose)
            and stack_level in (None, held.parsed.stack_level)
            and (sources is None or held.source in sources)
        ]

    def remove(self, held_profiles):
        for held in held_profiles:
            self.by_id.pop(held.parsed.id, None)
        return len(held_profiles)

    def bind_transaction(self, evse_id, transaction_id):
        """A TxProfile given with a remote start belongs to the transaction it started."""
        for held in self.select(evse_id=evse_id, purpose=TX):
            if held.profile.get("transactionId") is None:
                held.profile["transactionId"] = transaction_id
                held.parsed = to_composite(evse_id, held.profile)

    def drop_expired(self, now):
        """Profiles past validTo are discarded."""
        self.remove([h for h in self.by_id.values() if h.parsed.valid_to is not None and h.parsed.valid_to <= now])

    def parsed(self):
        return [held.parsed for held in self.by_id.values()]


def fair_share(cap, wants):
    """Split `cap` over the wanted powers: nobody gets more than they want, the rest evenly."""
    if sum(wants.values()) <= cap:
        return dict(wants)
    shares, remaining = {}, cap
    ordered = sorted(wants.items(), key=lambda item: item[1])
    for index, (key, want) in enumerate(ordered):
        shares[key] = min(want, remaining / (len(ordered) - index))
        remaining -= shares[key]
    return shares


def floor_tenth(value):
    """Down to 0.1 W, so the power reported (one decimal) never rounds above a limit."""
    return math.floor(value * 10) / 10


class SmartCharging:
    """A station's charging profiles and the limits they set, re-evaluated at once when a profile
    arrives, a transaction starts or ends, or a period boundary passes."""

    def __init__(self, station):
        self.station = station
        self.held = HeldProfiles()
        self.station_limit_w = None  # the composite of EVSE 0: caps the sum of the EVSEs
        self._plan = None  # (version, window start, {evse id: composite in W}, next change)
        self._version = 0
        self._changed = asyncio.Event()

    # --- what the station holds -------------------------------------------------------------

    def transaction_of(self, evse_id):
        """(transaction id as text, start) of the transaction running on the EVSE, or (None, None)."""
        evse = self.station.evse(evse_id) if evse_id else None
        session = evse.session if evse is not None else None
        if session is None or session.transaction_id is None or session.transaction_started_at is None:
            return None, None
        return str(session.transaction_id), session.transaction_started_at

    def rejects(self, evse_id, profile, version):
        """Why the station refuses this SetChargingProfile (None: it installs it)."""
        purpose = profile["chargingProfilePurpose"]
        if purpose == EXTERNAL:
            return "ChargingStationExternalConstraints are set by the station's own sources"
        if evse_id and self.station.evse(evse_id) is None:
            return f"no EVSE {evse_id}"
        if purpose == STATION_MAX and evse_id != 0:
            return "a station-wide maximum goes on EVSE 0 only"
        if purpose == TX:
            transaction_id, _ = self.transaction_of(evse_id)
            given = profile.get("transactionId")
            if transaction_id is None:
                return f"no transaction on EVSE {evse_id}"
            if given is None and version == "2.0.1":
                return "a TxProfile names its transaction"  # K01.FR.03
            if given is not None and str(given) != transaction_id:
                return f"transaction {given} is not the one on EVSE {evse_id}"
        try:
            to_composite(evse_id, profile)
        except ValueError as error:
            return str(error)
        return None

    def install(self, evse_id, profile):
        self.held.install(evse_id, profile)
        self.changed()

    def clear(self, **criteria):
        """Clear the matching profiles; how many there were."""
        cleared = self.held.remove(self.held.select(**criteria))
        if cleared:
            self.changed()
        return cleared

    def forget(self):
        """A reboot that does not keep its profiles."""
        self.station.stats.count("profiles_forgotten", len(self.held))
        self.held.by_id.clear()
        self.changed()

    def transaction_started(self, evse_id, transaction_id):
        self.held.bind_transaction(evse_id, transaction_id)
        self.changed()

    def transaction_ended(self, evse_id):
        """A TxProfile lives as long as its transaction."""
        self.held.remove(self.held.select(evse_id=evse_id, purpose=TX))
        self.changed()

    def profiles_by_evse(self):
        """{evse id: [2.0.1 chargingProfile, ...]} of what the station holds (for tests)."""
        found = {}
        for held in self.held.by_id.values():
            found.setdefault(held.evse_id, []).append(held.profile)
        return found

    def snapshot(self):
        """What the station holds and draws now, for tests: {evse id: {profiles, limit_w, phases,
        power_w}}; EVSE 0 is the station (its limit caps the sum, its power is the sum)."""
        self.reevaluate()
        held = self.profiles_by_evse()
        found = {0: {"profiles": held.get(0, []), "limit_w": self.station_limit_w, "phases": None,
                     "power_w": sum(evse.meter.power_w for evse in self.station.evses)}}
        for evse in self.station.evses:
            found[evse.evse_id] = {"profiles": held.get(evse.evse_id, []), "limit_w": evse.limit_w,
                                   "phases": evse.phases, "power_w": evse.meter.power_w}
        return found

    # --- composite schedules ----------------------------------------------------------------

    def composite(self, evse_id, start, duration, unit):
        transaction_id, transaction_start = self.transaction_of(evse_id)
        return compute_composite_schedule(
            self.held.parsed(),
            evse_id=evse_id,
            window_start=start,
            duration=duration,
            unit=unit,
            transaction_id=transaction_id,
            transaction_start=transaction_start,
        )

    def unlimited_w(self, evse_id):
        """What an EVSE (0: the whole station) delivers when no profile limits it."""
        rating = self.station.profile.max_power_w
        return rating * len(self.station.evses) if evse_id == 0 else rating

    def composite_answer(self, evse_id, duration, unit):
        """The station's own composite from now, as (scheduleStart, unit, periods) with the
        station's rating where no profile limits it."""
        start = datetime.now(UTC).replace(microsecond=0)
        self.held.drop_expired(start)
        schedule = self.composite(evse_id, start, max(1, duration), unit)
        periods = []
        for period in schedule.periods:
            limit = period.limit
            if limit is None:
                limit = in_unit(self.unlimited_w(evse_id), unit)
            entry = {"startPeriod": period.start_period, "limit": math.floor(limit * 10) / 10}
            if period.number_phases is not None:
                entry["numberPhases"] = period.number_phases
            periods.append(entry)
        return start, periods

    def changed(self):
        self._version += 1
        self._changed.set()
        self.reevaluate()

    def _limits(self, now):
        """{evse id (0: station): (limit W or None, phases or None)} in force now."""
        plan = self._plan
        if plan is None or plan[0] != self._version or now >= plan[3]:
            plan = self._make_plan(now)
        _, _start, composites, _ = plan
        limits = {}
        for evse_id, composite in composites.items():
            period = composite.period_at(now)
            limits[evse_id] = (None, None) if period is None else (period.limit, period.number_phases)
        return limits

    def _make_plan(self, now):
        start = now.replace(microsecond=0)
        self.held.drop_expired(start)
        composites, next_change = {}, start + timedelta(seconds=HORIZON_S)
        if len(self.held):
            for evse_id in [0] + [evse.evse_id for evse in self.station.evses]:
                composite = self.composite(evse_id, start, HORIZON_S, "W")
                composites[evse_id] = composite
                if len(composite.periods) > 1:
                    next_change = min(next_change, start + timedelta(seconds=composite.periods[1].start_period))
        self._plan = (self._version, start, composites, next_change)
        return self._plan

    def next_change(self):
        """When the limits change next (None: not before something is installed or cleared)."""
        if not len(self.held):
            return None
        plan = self._plan if self._plan is not None and self._plan[0] == self._version else None
        return (plan or self._make_plan(datetime.now(UTC)))[3]

    # --- the power drawn --------------------------------------------------------------------

    def reevaluate(self):
        """Every EVSE's limit and the power its EV draws now, capped by the EVSE's composite and,
        summed, by the station's (EVSE 0); meters account what was drawn until now."""
        station = self.station
        limits = self._limits(datetime.now(UTC))
        self.station_limit_w = limits.get(0, (None, None))[0]
        wants = {}
        for evse in station.evses:
            limit, phases = limits.get(evse.evse_id, (None, None))
            evse.limit_w = limit
            evse.phases = phases or DEFAULT_NUMBER_PHASES
            session = evse.session
            want = session.demand_w() if session is not None and session.charging else 0.0
            wants[evse.evse_id] = want if limit is None else min(want, limit)
        if self.station_limit_w is not None:
            wants = fair_share(self.station_limit_w, wants)
        for evse in station.evses:
            evse.meter.advance(max(0.0, floor_tenth(wants[evse.evse_id])))

    async def watch(self):
        """Re-evaluate when a period boundary passes (a new limit holds from its first second)."""
        while True:
            self._changed.clear()
            upcoming = self.next_change()
            wait = None if upcoming is None else max(0.0, (upcoming - datetime.now(UTC)).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait)
                continue
            self.reevaluate()
