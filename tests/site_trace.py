"""What the simulated stations of a site hold and draw over time (sampled on the simulator's own
loop), and the site's metered power rebuilt from the stored readings and the profiles answered."""

import bisect
import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from csms.models import Command
from transactions.models import MeterValue, Transaction

POWER = "Power.Active.Import"
VOLTAGE = 230.0


# --- what the stations hold and draw, sampled ------------------------------------------------

def evse_held_w(station, evse):
    """The power an EVSE of a simulated station may draw now: its composite limit, the station's
    (EVSE 0) limit and the charger's rating, the lowest of them. No profile: all of the rating."""
    limits = [station.profile.max_power_w]
    station_limit = getattr(getattr(station, "smart", None), "station_limit_w", None)
    for limit in (evse.limit_w, station_limit):
        if limit is not None:
            limits.append(limit)
    return min(limits)


def snapshot(stations):
    """{(identity, evse_id): (held W, drawn W)} of every EVSE, read on the simulator's loop in one
    go, so it is one instant: no station message is handled in between."""
    return {(station.identity, evse.evse_id): (evse_held_w(station, evse), evse.meter.power_w)
            for station in stations for evse in station.evses}


@dataclass
class StationSampler:
    """Samples every EVSE's held limit and drawn power every `interval` s until stopped."""

    simulator: object
    stations: list
    interval: float = 0.05
    samples: list = field(default_factory=list)  # (utc datetime, snapshot)

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="site-sampler", daemon=True)

    def start(self):
        self.take()
        self._thread.start()
        return self

    def take(self):
        values = self.simulator.call(snapshot, self.stations)
        sample = (datetime.now(UTC), values)
        self.samples.append(sample)
        return sample

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self.take()
            except Exception:  # noqa: BLE001 (the simulator's loop closed: the test is over)
                return

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        return self.samples

    def held_sums(self):
        """[(when, the sum of every EVSE's held limit)]."""
        return [(when, sum(held for held, _ in values.values())) for when, values in self.samples]

    def drawn_sums(self):
        """[(when, the power every EVSE draws, summed)]."""
        return [(when, sum(drawn for _, drawn in values.values())) for when, values in self.samples]

    def latest(self):
        return self.samples[-1][1]


# --- the site's limit over time ----------------------------------------------------------------

@dataclass
class LimitTimeline:
    """The site limit the test set, and when: [(from, W)]. A lower limit takes a round trip to
    reach the stations: until the series first comes down to it (at most `grace` s after the
    change) the old limit still bounds it; from then on the new one does."""

    changes: list = field(default_factory=list)

    def set(self, when, watts):
        self.changes.append((when, watts))

    def _switches(self, series, grace, tolerance):
        """[(from, W)]: when each limit starts to bound `series`."""
        switches = []
        for index, (start, watts) in enumerate(self.changes):
            previous = self.changes[index - 1][1] if index else watts
            if watts >= previous:
                switches.append((start, watts))
                continue
            deadline = start + timedelta(seconds=grace)
            reached = next((when for when, value in series
                            if start <= when <= deadline and value <= watts + tolerance), deadline)
            switches.append((start, previous))
            switches.append((reached, watts))
        return sorted(switches, key=lambda switch: switch[0])

    def violations(self, series, grace, tolerance=1.0):
        """The (when, W, bound) of `series` above the limit bounding it then."""
        switches = self._switches(series, grace, tolerance)
        found = []
        for when, watts in series:
            bound = None
            for start, limit in switches:
                if start > when:
                    break
                bound = limit
            if bound is not None and watts > bound + tolerance:
                found.append((when, round(watts, 1), bound))
        return found


# --- what the stations metered, from the database ----------------------------------------------

def limit_of(payload):
    """(purpose, EVSE id, transaction id or None, first period's limit in W) of a
    SetChargingProfile request of either version (site profiles have one period)."""
    if "chargingProfile" in payload:
        profile, evse_id = payload["chargingProfile"], payload["evseId"]
        schedule = profile["chargingSchedule"][0]
    else:
        profile, evse_id = payload["csChargingProfiles"], payload["connectorId"]
        schedule = profile["chargingSchedule"]
    purpose = profile["chargingProfilePurpose"]
    period = schedule["chargingSchedulePeriod"][0]
    limit = float(period["limit"])
    if schedule["chargingRateUnit"] == "A":
        limit *= VOLTAGE * (period.get("numberPhases") or 3)
    transaction_id = profile.get("transactionId")
    return purpose, evse_id, None if transaction_id is None else str(transaction_id), limit


def accepted_profiles(identities, since):
    """{identity: [(answered at, purpose, EVSE id, transaction id, W)]} of every SetChargingProfile
    the stations accepted since `since`, in answer order."""
    found = {identity: [] for identity in identities}
    rows = (Command.objects.filter(identity__in=identities, action="SetChargingProfile",
                                   status=Command.Status.ACCEPTED, finished_at__gte=since)
            .order_by("finished_at", "id").values_list("identity", "finished_at", "payload"))
    for identity, finished_at, payload in rows:
        found[identity].append((finished_at, *limit_of(payload)))
    return found


@dataclass
class MeteredTransaction:
    identity: str
    evse_id: int
    transaction_id: str
    started_at: datetime
    ended_at: datetime | None
    readings: list  # [(when, W)] in time order

    def limit_at(self, profiles, when):
        """The EVSE's limit at `when` from the profiles its station accepted by then: its
        TxProfile, else the TxDefaultProfile (on the EVSE or EVSE 0); inf when none."""
        tx_limit = default_limit = None
        for answered_at, purpose, evse_id, transaction_id, watts in profiles:
            if answered_at > when:
                break
            if evse_id not in (0, self.evse_id):
                continue
            if purpose == "TxProfile" and transaction_id == self.transaction_id:
                tx_limit = watts
            elif purpose == "TxDefaultProfile":
                default_limit = watts
        limit = tx_limit if tx_limit is not None else default_limit
        return math.inf if limit is None else limit

    def power_at(self, profiles, when):
        """What it drew at `when`: its last reading, unless its station accepted a profile since
        (its draw changed then, at most to the new limit) or it has no reading yet (at most its
        limit); 0 outside the transaction."""
        if when < self.started_at or (self.ended_at is not None and when >= self.ended_at):
            return 0.0
        index = bisect.bisect_right(self.readings, (when, math.inf)) - 1
        if index < 0:
            return self.limit_at(profiles, when)
        read_at, watts = self.readings[index]
        if any(read_at < answered_at <= when for answered_at, *_ in profiles):
            return self.limit_at(profiles, when)
        return watts


def metered_transactions(identities, since):
    """The transactions of these stations that started since `since`, with their stored
    Power.Active.Import readings."""
    transactions = {}
    for row in Transaction.objects.filter(station__identity__in=identities, started_at__gte=since) \
            .select_related("station"):
        transactions[row.pk] = MeteredTransaction(
            row.station.identity, row.evse_id or row.connector_id or 1, str(row.transaction_id),
            row.started_at, row.ended_at, [])
    rows = (MeterValue.objects.filter(transaction__in=list(transactions), measurand=POWER,
                                      value__isnull=False)
            .order_by("timestamp", "id").values_list("transaction_id", "timestamp", "value"))
    for transaction_pk, when, value in rows:
        transactions[transaction_pk].readings.append((when, float(value)))
    return list(transactions.values())


def metered_site_power(identities, since):
    """[(instant, the site's metered W)] at every instant something changes it (a reading, an
    answered profile, a start or an end): each transaction's power as `power_at` tells."""
    transactions = metered_transactions(identities, since)
    profiles = accepted_profiles(identities, since)
    instants = set()
    for transaction in transactions:
        instants.update(when for when, _ in transaction.readings)
        instants.add(transaction.started_at)
        if transaction.ended_at is not None:
            instants.add(transaction.ended_at)
    for rows in profiles.values():
        instants.update(answered_at for answered_at, *_ in rows)
    return [(instant, sum(t.power_at(profiles[t.identity], instant) for t in transactions))
            for instant in sorted(instants)], transactions
