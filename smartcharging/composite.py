"""The composite schedule of one EVSE (or the station, EVSE 0) over a time window, computed from the
charging profiles installed there: pure data in, pure data out (OCPP 1.6 §3.13, 2.0.1 block K)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

STATION_MAX = "ChargingStationMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
EXTERNAL = "ChargingStationExternalConstraints"
# 1.6 names the station-wide purpose ChargePointMaxProfile; it is the same purpose.
PURPOSE_ALIASES = {"ChargePointMaxProfile": STATION_MAX}
PURPOSES = (STATION_MAX, TX_DEFAULT, TX, EXTERNAL)
KINDS = ("Absolute", "Recurring", "Relative")
RECURRENCY_KINDS = ("Daily", "Weekly")
UNITS = ("A", "W")
RECURRENCE_STEP = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}
# Used when a period gives no numberPhases (2.0.1 numberPhases: "numberPhases=3 will be assumed").
DEFAULT_NUMBER_PHASES = 3
DEFAULT_VOLTAGE = 230.0


def _whole_seconds(moment: datetime | None, name: str) -> datetime | None:
    """An aware datetime in UTC, cut to whole seconds (startPeriod and duration count seconds)."""
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    # In UTC, since Python subtracts two datetimes of one zone by their wall clocks.
    return moment.astimezone(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Period:
    """chargingSchedulePeriod: from start_period seconds after the schedule start, until the next."""
    start_period: int
    limit: float
    number_phases: int | None = None
    phase_to_use: int | None = None

    def __post_init__(self):
        if self.start_period < 0:
            raise ValueError("start_period must be >= 0")
        if self.limit < 0:
            raise ValueError("limit must be >= 0")
        if self.number_phases is not None and self.number_phases not in (1, 2, 3):
            raise ValueError("number_phases must be 1, 2 or 3")


@dataclass(frozen=True)
class ChargingSchedule:
    start_schedule: datetime | None
    duration: int | None
    unit: str
    min_charging_rate: float | None = None
    periods: tuple[Period, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "start_schedule",
                           _whole_seconds(self.start_schedule, "start_schedule"))
        object.__setattr__(self, "periods", tuple(self.periods))
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}")
        if self.duration is not None and self.duration < 0:
            raise ValueError("duration must be >= 0")
        if not self.periods:
            raise ValueError("a schedule needs at least one period")
        starts = [period.start_period for period in self.periods]
        # startPeriod "also defines the stop time of the previous period": ascending, from 0.
        if starts[0] != 0 or any(a >= b for a, b in zip(starts, starts[1:])):
            raise ValueError("periods must start at 0 and ascend strictly by start_period")


@dataclass(frozen=True)
class ChargingProfile:
    id: int
    stack_level: int
    purpose: str
    kind: str
    recurrency_kind: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None
    schedules: tuple[ChargingSchedule, ...] = ()
    # The EVSE (1.6: connector) the profile is installed on; 0 is the station.
    evse_id: int = 0

    def __post_init__(self):
        object.__setattr__(self, "purpose", PURPOSE_ALIASES.get(self.purpose, self.purpose))
        object.__setattr__(self, "valid_from", _whole_seconds(self.valid_from, "valid_from"))
        object.__setattr__(self, "valid_to", _whole_seconds(self.valid_to, "valid_to"))
        object.__setattr__(self, "schedules", tuple(self.schedules))
        if self.purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {PURPOSES}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if self.stack_level < 0:
            raise ValueError("stack_level must be >= 0")
        if self.evse_id < 0:
            raise ValueError("evse_id must be >= 0")
        if not self.schedules:
            raise ValueError("a profile needs at least one schedule")
        if self.kind == "Recurring":
            if self.recurrency_kind not in RECURRENCY_KINDS:
                raise ValueError(f"a Recurring profile needs recurrency_kind {RECURRENCY_KINDS}")
            if self.schedules[0].start_schedule is None:
                raise ValueError("a Recurring profile needs start_schedule")


@dataclass(frozen=True)
class CompositePeriod:
    """start_period: seconds from the window start; limit None: no profile limits this stretch."""
    start_period: int
    limit: float | None
    number_phases: int | None
    # Reported from the prevailing Tx/TxDefault schedule, never applied as a limit.
    min_charging_rate: float | None = None


@dataclass(frozen=True)
class CompositeSchedule:
    evse_id: int
    schedule_start: datetime
    duration: int
    unit: str
    periods: tuple[CompositePeriod, ...]

    def period_at(self, instant: datetime) -> CompositePeriod | None:
        """The period in force at instant, or None outside the window."""
        offset = (instant.astimezone(timezone.utc) - self.schedule_start).total_seconds()
        if offset < 0 or offset >= self.duration:
            return None
        found = None
        for period in self.periods:
            if period.start_period > offset:
                break
            found = period
        return found

    def limit_at(self, instant: datetime) -> float | None:
        """The effective limit at instant (None: unlimited or outside the window)."""
        period = self.period_at(instant)
        return None if period is None else period.limit


@dataclass(frozen=True)
class _Piece:
    """One period of one profile occurrence, placed in time: [start, end) with its limit."""
    start: datetime
    end: datetime
    limit: float
    number_phases: int
    min_charging_rate: float | None
    stack_level: int


def _to_unit(value: float, from_unit: str, to_unit: str, voltage: float, phases: int) -> float:
    """A↔W: W = A × voltage × phases (limits in A are per phase)."""
    if from_unit == to_unit:
        return value
    if to_unit == "W":
        return value * voltage * phases
    return value / (voltage * phases)


def _occurrences(profile: ChargingProfile, schedule: ChargingSchedule, window_start: datetime,
                 window_end: datetime, transaction_start: datetime | None, tz: tzinfo):
    """(to_time, occurrence_end) per occurrence touching the window; to_time maps offsets to UTC."""
    def elapsed(anchor):
        return lambda seconds: anchor + timedelta(seconds=seconds)

    if profile.kind == "Recurring":
        step = RECURRENCE_STEP[profile.recurrency_kind]
        local_start = schedule.start_schedule.astimezone(tz).replace(tzinfo=None)

        def wall_clock(local_anchor):
            # A recurrence keeps its local wall-clock times across DST (the day lasts 23 or 25 h).
            return lambda seconds: (local_anchor + timedelta(seconds=seconds)).replace(
                tzinfo=tz).astimezone(timezone.utc)

        # Occurrences begin at startSchedule (none before it); start a step early for DST slack.
        k = max(0, (window_start - schedule.start_schedule) // step - 1)
        while True:
            to_time = wall_clock(local_start + k * step)
            anchor = to_time(0)
            if anchor >= window_end:
                return
            next_anchor = wall_clock(local_start + (k + 1) * step)(0)
            # The schedule restarts at each recurrence: an occurrence ends where the next begins.
            end = next_anchor if schedule.duration is None else min(next_anchor,
                                                                     to_time(schedule.duration))
            if end > window_start:
                yield to_time, end
            k += 1
    if profile.kind == "Relative" or schedule.start_schedule is None:
        # Relative (and a schedule without startSchedule) runs from the transaction start; without
        # a transaction it does not apply (2.0.1 startSchedule: "relative to start of charging").
        if transaction_start is None:
            return
        anchor = transaction_start
    else:
        anchor = schedule.start_schedule
    to_time = elapsed(anchor)
    # No duration: the last period holds indefinitely (2.0.1 duration description).
    yield to_time, (window_end if schedule.duration is None else to_time(schedule.duration))


def _pieces(profile: ChargingProfile, window_start: datetime, window_end: datetime,
            transaction_start: datetime | None, unit: str, voltage: float, default_phases: int,
            tz: tzinfo) -> list[_Piece]:
    """The profile's limits placed in [window_start, window_end), clipped to validFrom/validTo."""
    # 2.0.1 allows up to three schedules for ISO 15118 negotiation; the first is the one in force.
    schedule = profile.schedules[0]
    lower = max(window_start, profile.valid_from or window_start)
    upper = min(window_end, profile.valid_to or window_end)
    pieces = []
    if lower >= upper:
        return pieces
    for to_time, occurrence_end in _occurrences(profile, schedule, window_start, window_end,
                                                transaction_start, tz):
        edges = [to_time(period.start_period) for period in schedule.periods] + [occurrence_end]
        # A period may not outlast a later one: this drops periods past the duration, and those
        # whose wall-clock start DST skipped (it maps an hour late, after the next one's start).
        for index in range(len(edges) - 2, -1, -1):
            edges[index] = min(edges[index], edges[index + 1])
        for index, period in enumerate(schedule.periods):
            start, end = max(edges[index], lower), min(edges[index + 1], upper)
            if start >= end:
                continue
            phases = period.number_phases or default_phases
            min_rate = schedule.min_charging_rate
            pieces.append(_Piece(
                start, end, _to_unit(period.limit, schedule.unit, unit, voltage, phases), phases,
                None if min_rate is None else _to_unit(min_rate, schedule.unit, unit, voltage,
                                                       phases),
                profile.stack_level))
    return pieces


def _prevailing(pieces: list[_Piece], instant: datetime) -> _Piece | None:
    """Within one purpose the highest stackLevel in force at instant prevails (1.6 §3.13.2)."""
    best = None
    for piece in pieces:
        if piece.start <= instant < piece.end:
            # Equal stack levels cannot both be installed; if given anyway the lower limit holds.
            if (best is None or piece.stack_level > best.stack_level
                    or (piece.stack_level == best.stack_level and piece.limit < best.limit)):
                best = piece
    return best


def _groups(profiles, evse_id: int, transaction_id: str | None,
            transaction_start: datetime | None):
    """The stacks whose prevailing limits combine: (constraints, tx stack, tx default stack)."""
    on_station = [p for p in profiles if p.evse_id == 0]
    on_evse = [p for p in profiles if evse_id and p.evse_id == evse_id]
    # ChargingStationMaxProfile exists on EVSE 0 only (1.6 §3.13.1, 2.0.1 evseId description).
    constraints = [[p for p in on_station if p.purpose == STATION_MAX],
                   [p for p in on_station if p.purpose == EXTERNAL]]
    if not evse_id:
        # EVSE 0 is the grid connection: TxDefaultProfile on it applies to each EVSE, not the sum.
        return constraints, [], []
    constraints.append([p for p in on_evse if p.purpose == EXTERNAL])
    # TxProfile applies only for its transaction (1.6 §3.13.1: "for the duration of the current
    # transaction only"); a TxProfile without transactionId (1.6) belongs to the running one.
    tx_stack = [] if transaction_start is None and transaction_id is None else [
        p for p in on_evse if p.purpose == TX
        and (p.transaction_id is None or p.transaction_id == transaction_id)]
    own_default = [p for p in on_evse if p.purpose == TX_DEFAULT]
    own_levels = {p.stack_level for p in own_default}
    # 1.6 §3.13.1: "In the event a TxDefaultProfile for connector 0 is installed, and the Central
    # System sends a new profile with ConnectorId >0, the TxDefaultProfile SHALL be replaced only
    # for that specific connector" — same purpose and stackLevel replace (§3.13.2), so an EVSE's
    # own TxDefaultProfile hides the EVSE 0 one of its stackLevel; other levels still stack.
    default_stack = own_default + [p for p in on_station if p.purpose == TX_DEFAULT
                                   and p.stack_level not in own_levels]
    return constraints, tx_stack, default_stack


def compute_composite_schedule(
        profiles, *, evse_id: int, window_start: datetime, duration: int, unit: str = "A",
        transaction_id: str | None = None, transaction_start: datetime | None = None,
        voltage: float = DEFAULT_VOLTAGE, default_number_phases: int = DEFAULT_NUMBER_PHASES,
        tz: tzinfo = timezone.utc) -> CompositeSchedule:
    """The composite schedule of evse_id (0: the station) over [window_start, +duration s)."""
    window_start = _whole_seconds(window_start, "window_start")
    transaction_start = _whole_seconds(transaction_start, "transaction_start")
    if duration <= 0:
        raise ValueError("duration must be > 0")
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}")
    if voltage <= 0:
        raise ValueError("voltage must be > 0")
    window_end = window_start + timedelta(seconds=duration)
    constraints, tx_stack, default_stack = _groups(list(profiles), evse_id, transaction_id,
                                                   transaction_start)

    def place(stack):
        return [piece for profile in stack
                for piece in _pieces(profile, window_start, window_end, transaction_start, unit,
                                     voltage, default_number_phases, tz)]

    constraint_pieces = [place(stack) for stack in constraints]
    tx_pieces, default_pieces = place(tx_stack), place(default_stack)
    all_pieces = [p for group in constraint_pieces for p in group] + tx_pieces + default_pieces
    # Limits change only at piece edges; evaluate each stretch between edges once.
    edges = sorted({window_start} | {moment for piece in all_pieces
                                     for moment in (piece.start, piece.end)
                                     if window_start < moment < window_end})
    periods: list[CompositePeriod] = []
    for edge in edges:
        # TxProfile overrules TxDefaultProfile while it is in force (1.6 §3.13.1).
        transaction = _prevailing(tx_pieces, edge) or _prevailing(default_pieces, edge)
        prevailing = [_prevailing(group, edge) for group in constraint_pieces] + [transaction]
        prevailing = [piece for piece in prevailing if piece is not None]
        # The composite is the minimum over the purposes' prevailing limits (1.6 §3.13.3).
        limit = min((piece.limit for piece in prevailing), default=None)
        # Any prevailing profile's numberPhases caps the phases the EV may use.
        phases = min((piece.number_phases for piece in prevailing), default=None)
        period = CompositePeriod(int((edge - window_start).total_seconds()), limit, phases,
                                 None if transaction is None else transaction.min_charging_rate)
        if periods and (periods[-1].limit, periods[-1].number_phases,
                        periods[-1].min_charging_rate) == (limit, phases,
                                                           period.min_charging_rate):
            continue
        periods.append(period)
    return CompositeSchedule(evse_id, window_start, duration, unit, tuple(periods))


def effective_limit(profiles, instant: datetime, *, evse_id: int, **options) -> float | None:
    """The composite limit at one instant (None: no profile limits it); options as above."""
    return compute_composite_schedule(profiles, evse_id=evse_id, window_start=instant, duration=1,
                                      **options).limit_at(_whole_seconds(instant, "instant"))
