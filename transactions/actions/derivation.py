"""A transaction derived from its events and readings (derive), and the in-order fold that
continues it without re-reading (fold_in_order)."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from .. import metering
from ..models import RemoteStart, Reservation, Transaction
from .authorization import find_token
from .common import OCPP16, OCPP201, parse_time
from ..signals import transaction_changed
from .cost import _apply_cost

EVENT_RANK = {"Started": 0, "Updated": 1, "Ended": 2}


def _event_order(event):
    # 2.0.1 events order by seqNo; 1.6 ones (no seqNo) a start before a stop, whatever the
    # timestamps (an offline replay may carry a stop time before the start time).
    return (event.seq_no if event.seq_no is not None else -1, EVENT_RANK[event.event_type],
            event.timestamp)


def _answered_status(event):
    answer = event.answer or {}
    return (answer.get("idTokenInfo") or answer.get("idTagInfo") or {}).get("status", "")


def _event_reading(rows, event, context, position):
    """The register reading an event carried (its Transaction.Begin/End one if it has one)."""
    if event is None:
        return None
    carried = [row for row in rows if row[4] == event.pk]
    preferred = [row for row in carried if row[5] == context] or carried
    readings = metering.register_readings([row[:4] for row in preferred])
    return readings[position] if readings else None


def _as_201(event, version):
    """A 1.6 start or stop read as the 2.0.1 event fields the derivation uses."""
    payload = event.payload
    if version == OCPP201:
        return payload
    if event.event_type == "Started":
        return {"idToken": {"idToken": payload["idTag"], "type": ""},
                "evse": {"connectorId": payload["connectorId"]},
                "reservationId": payload.get("reservationId"), "transactionInfo": {}}
    converted = {"transactionInfo": {"stoppedReason": payload.get("reason", "Local")},
                 "triggerReason": "StopAuthorized" if payload.get("idTag") else ""}
    if payload.get("idTag"):
        converted["idToken"] = {"idToken": payload["idTag"], "type": ""}
    return converted


def derive(transaction, presented=None):
    """Recompute every derived field of a transaction from all its events (in seqNo order), meter
    values and the CSMS's settlement, if any. A pure function of the stored set, so arrival order
    and repeats cannot matter. The events after its Ended (higher seqNo) and their readings are
    kept but count for nothing: the Ended's reading is the stop, the Started's the start.
    `presented`: a token the caller has just looked up for this event (saves looking it up again)."""
    version = transaction.ocpp_version
    before = placement(transaction)
    events = sorted(transaction.events.all(), key=_event_order)
    end = next((index for index, event in enumerate(events) if event.event_type == "Ended"), None)
    counted, late = (events, []) if end is None else (events[:end + 1], events[end + 1:])
    started = next((event for event in counted if event.event_type == "Started"), None)
    ended = counted[end] if end is not None else None
    fields = {"evse_id": None, "connector_id": None, "charging_state": "", "stopped_reason": "",
              "reservation_id_sent": None, "time_spent_charging": None,
              "number_of_phases_used": None, "authorization_status": ""}
    start_token = stop_token = None
    remote_start_id = None
    states = []
    for event in counted:
        payload = _as_201(event, version)
        info = payload.get("transactionInfo") or {}
        evse = payload.get("evse") or {}
        if event is ended:
            # OCPP: stoppedReason may only be omitted when it is Local.
            fields["stopped_reason"] = info.get("stoppedReason") or "Local"
        if fields["evse_id"] is None and evse.get("id") is not None:
            fields["evse_id"] = evse["id"]
        if fields["connector_id"] is None and evse.get("connectorId") is not None:
            fields["connector_id"] = evse["connectorId"]
        if info.get("chargingState"):
            fields["charging_state"] = info["chargingState"]
            states.append((event.timestamp, info["chargingState"]))
        for key, name in (("timeSpentCharging", "time_spent_charging"),):
            if info.get(key) is not None:
                fields[name] = info[key]
        if payload.get("numberOfPhasesUsed") is not None:
            fields["number_of_phases_used"] = payload["numberOfPhasesUsed"]
        if remote_start_id is None and info.get("remoteStartId") is not None:
            remote_start_id = info["remoteStartId"]
        if fields["reservation_id_sent"] is None and payload.get("reservationId") is not None:
            fields["reservation_id_sent"] = payload["reservationId"]
        token = payload.get("idToken")
        if token:
            if start_token is None:
                start_token = token
                fields["authorization_status"] = _answered_status(event)
            elif payload.get("triggerReason") == "StopAuthorized" or event.event_type == "Ended":
                stop_token = token
        elif (payload.get("triggerReason") == "StopAuthorized" and version == OCPP16
              and start_token is not None):
            stop_token = start_token
    started_at = ended_at = None
    if events:
        started_at = (started or counted[0]).timestamp
        ended_at = ended and ended.timestamp
        transaction.last_event_at = max(event.timestamp for event in events)
        seq_nos = [event.seq_no for event in events if event.seq_no is not None]
        transaction.last_seq_no = max(seq_nos) if seq_nos else None
    for name, value in fields.items():
        setattr(transaction, name, value)
    transaction.offline = any(event.offline for event in events)
    transaction.event_count = len(events)
    if remote_start_id is not None:
        transaction.remote_start_id = remote_start_id
    if start_token:
        value, token_type = start_token["idToken"], start_token.get("type", "")
        # Every later event of a session names the same start token: look it up once.
        if not (transaction.id_token_id and transaction.id_token_value == value
                and transaction.id_token_type == token_type):
            # find_token() again, unless the caller's lookup was the same one.
            same = (presented is not None and presented.id_token == value
                    and (not token_type or presented.type == token_type))
            transaction.id_token = presented if same else find_token(value, token_type or None)
        transaction.id_token_value, transaction.id_token_type = value, token_type
    if stop_token:
        transaction.stop_id_token_value = stop_token["idToken"]
        transaction.stop_id_token_type = stop_token.get("type", "")

    rows = list(transaction.meter_values.filter(
        measurand__in=[metering.ENERGY_REGISTER, metering.ENERGY_INTERVAL],
    ).values_list("timestamp", "measurand", "phase", "value", "event_id", "context", "after_end"))
    late_ids = {event.pk for event in late}
    if late_ids:  # readings of events after the end: kept, flagged, never billed
        transaction.meter_values.filter(event_id__in=late_ids, after_end=False).update(after_end=True)
    rows = [row for row in rows if not row[6] and row[4] not in late_ids]
    samples = [row[:4] for row in rows]
    if ended is None and transaction.settlement:
        # Closed by the CSMS: ended at the last thing known of it, stopped for the settlement.
        ended_at = max([event.timestamp for event in events] + [sample[0] for sample in samples],
                       default=None)
        transaction.stopped_reason = transaction.settlement
    transaction.started_at, transaction.ended_at = started_at, ended_at
    transaction.state = Transaction.State.ENDED if ended_at else Transaction.State.ACTIVE
    if ended_at:
        transaction.settle_due_at, transaction.settle_reason = None, ""
    readings = metering.register_readings(samples)
    first = _event_reading(rows, started, "Transaction.Begin", 0) or (readings[0] if readings else None)
    last = _event_reading(rows, ended, "Transaction.End", -1) or (readings[-1] if readings else None)
    transaction.energy_wh, transaction.meter_start_wh, _ = metering.energy_wh(samples)
    transaction.meter_stop_wh = last.value if ended_at and last else None
    closed, charging_since = metering.fold_charging_states(states)
    fold = RunningFold(
        energy_mode=metering.energy_mode(samples), first=first, last=last,
        rising=metering.rising_time(readings), charging_closed=closed,
        charging_since=charging_since)
    _finish_derivation(transaction, fold, ended_at or transaction.last_event_at)
    transaction.save()
    if placement(transaction) != before:
        transaction_changed.send(sender=Transaction, transaction=transaction)
    _link_reservation(transaction)
    if transaction.remote_start_id is not None:
        RemoteStart.objects.filter(pk=transaction.remote_start_id, station_id=transaction.station_id,
                                   transaction__isnull=True).update(transaction=transaction)
    return transaction


@dataclass
class RunningFold:
    """What derive()'s fold over events and register readings carries beyond the transaction's
    own fields, kept on the row (`Transaction.derivation`) so that an event or reading that sorts
    after everything stored can be folded in without re-reading the transaction."""
    energy_mode: str
    first: metering.Reading | None
    last: metering.Reading | None
    rising: timedelta
    charging_closed: timedelta
    charging_since: object  # datetime | None

    def as_json(self):
        def reading(value):
            return value and [value.timestamp.isoformat(), format(value.value.normalize(), "f")]
        return {"energy_mode": self.energy_mode, "first": reading(self.first),
                "last": reading(self.last), "rising_us": _microseconds(self.rising),
                "charging_closed_us": _microseconds(self.charging_closed),
                "charging_since": self.charging_since and self.charging_since.isoformat()}

    @classmethod
    def from_json(cls, data):
        def reading(value):
            return value and metering.Reading(datetime.fromisoformat(value[0]), Decimal(value[1]))
        since = data["charging_since"]
        return cls(energy_mode=data["energy_mode"], first=reading(data["first"]),
                   last=reading(data["last"]), rising=timedelta(microseconds=data["rising_us"]),
                   charging_closed=timedelta(microseconds=data["charging_closed_us"]),
                   charging_since=since and datetime.fromisoformat(since))


def _microseconds(duration):
    return duration // timedelta(microseconds=1)


def _finish_derivation(transaction, fold, as_of):
    """Energy, charging time and cost from the fold, as of the end or the newest event; an
    impossible result is flagged (`anomaly`) and not billed."""
    problems = []
    if fold.first is not None:
        transaction.energy_wh = fold.last.value - fold.first.value
        transaction.meter_start_wh = fold.first.value
        if transaction.energy_wh < 0:
            problems.append(f"Negative energy: meter stop {fold.last.value.normalize():f} Wh is "
                            f"below meter start {fold.first.value.normalize():f} Wh.")
            transaction.energy_wh = Decimal(0)
    if transaction.ended_at and transaction.started_at and transaction.ended_at < transaction.started_at:
        problems.append("Ended before it started (the station's timestamps).")
    transaction.anomaly = " ".join(problems)
    if transaction.time_spent_charging is not None:
        transaction.charging_seconds = transaction.time_spent_charging
    elif transaction.charging_state:  # some event reported a charging state
        transaction.charging_seconds = metering.charging_seconds(
            fold.charging_closed, fold.charging_since, as_of)
    else:
        transaction.charging_seconds = int(fold.rising.total_seconds())
    if problems:  # never stored as a billable fact
        transaction.total_cost, transaction.cost_breakdown = None, {}
        transaction.currency = transaction.tariff.currency if transaction.tariff else ""
    else:
        _apply_cost(transaction, as_of)
    transaction.derivation = fold.as_json()


# Written by the in-order path; the rest of a transaction's row stays as derive() left it.
FOLDED_FIELDS = ["evse_id", "connector_id", "charging_state", "time_spent_charging",
                 "number_of_phases_used", "offline", "last_seq_no", "last_event_at",
                 "event_count", "energy_wh", "meter_start_wh", "charging_seconds", "total_cost",
                 "currency", "cost_breakdown", "derivation", "anomaly", "last_news_at",
                 "settle_due_at", "settle_reason", "updated_at"]
# The precision MeterValue.value keeps on every backend (SQLite stores 15 significant digits).
STORED_PLACES, STORED_DIGITS = 6, 15


def _stored_exactly(value):
    exponent, digits = value.normalize().as_tuple()[2:0:-1]
    return exponent >= -STORED_PLACES and len(digits) <= STORED_DIGITS


def _fold_readings(fold, rows):
    """Fold new readings into a running fold; False when they don't simply come after the
    stored ones (earlier, per phase, intervals, or more precise than stored)."""
    new = []
    for row in rows:
        if row["value"] is None or row["measurand"] not in (metering.ENERGY_REGISTER,
                                                            metering.ENERGY_INTERVAL):
            continue
        if row["measurand"] == metering.ENERGY_REGISTER and not row["phase"]:
            if not _stored_exactly(row["value"]):
                return False
            new.append(metering.Reading(row["timestamp"], row["value"]))
        elif fold.energy_mode != "registers":  # they would count, and only derive() sums them
            return False
    if fold.energy_mode not in ("registers", "none"):
        return False
    new.sort(key=lambda reading: (reading.timestamp, reading.value))
    if not new:
        return True
    if fold.last is not None and new[0].timestamp <= fold.last.timestamp:
        return False
    fold.rising += metering.rising_time(new, fold.last)
    fold.first = fold.first or new[0]
    fold.last = new[-1]
    fold.energy_mode = "registers"
    return True


def _can_fold_event(transaction, payload):
    """A 2.0.1 Updated that sorts after every stored event and carries nothing only derive()
    handles (tokens, reservation, remote start)."""
    return (transaction.ocpp_version == OCPP201 and payload["eventType"] == "Updated"
            and transaction.last_seq_no is not None and payload["seqNo"] > transaction.last_seq_no
            and not payload.get("idToken") and payload.get("reservationId") is None
            and payload["transactionInfo"].get("remoteStartId") is None)


def fold_in_order(transaction, rows, payload=None):
    """derive() for one more 2.0.1 event (`payload`) or 1.6 meter readings that come after
    everything stored, without re-reading the transaction: the same fold, continued from its
    kept state. Returns False, changing nothing, when derive() must recompute instead."""
    before = placement(transaction)
    if not continue_fold(transaction, rows, payload):
        return False
    transaction.save(update_fields=FOLDED_FIELDS)
    if placement(transaction) != before:
        transaction_changed.send(sender=Transaction, transaction=transaction)
    return True


def continue_fold(transaction, rows, payload=None):
    """The fold of fold_in_order() applied to the instance only (nothing written): False,
    changing nothing, when the event or readings do not simply come next."""
    if not transaction.derivation or transaction.state != Transaction.State.ACTIVE:
        return False
    if payload is not None and not _can_fold_event(transaction, payload):
        return False
    fold = RunningFold.from_json(transaction.derivation)
    if not _fold_readings(fold, rows):
        return False
    if payload is not None:
        info, evse = payload["transactionInfo"], payload.get("evse") or {}
        timestamp = parse_time(payload["timestamp"])
        if transaction.evse_id is None and evse.get("id") is not None:
            transaction.evse_id = evse["id"]
        if transaction.connector_id is None and evse.get("connectorId") is not None:
            transaction.connector_id = evse["connectorId"]
        if info.get("chargingState"):
            transaction.charging_state = info["chargingState"]
            fold.charging_closed, fold.charging_since = metering.fold_charging_states(
                [(timestamp, info["chargingState"])], fold.charging_closed, fold.charging_since)
        if info.get("timeSpentCharging") is not None:
            transaction.time_spent_charging = info["timeSpentCharging"]
        if payload.get("numberOfPhasesUsed") is not None:
            transaction.number_of_phases_used = payload["numberOfPhasesUsed"]
        transaction.last_event_at = max(transaction.last_event_at, timestamp)
        transaction.last_seq_no = payload["seqNo"]
        transaction.offline = transaction.offline or payload.get("offline", False)
        transaction.event_count += 1
    _finish_derivation(transaction, fold, transaction.last_event_at)
    return True


def placement(transaction):
    """What load management follows of a transaction: running or not, and where (a new row has
    no EVSE or connector yet, so its start changes this too)."""
    return transaction.state, transaction.evse_id, transaction.connector_id


def _link_reservation(transaction):
    reservation_id = transaction.reservation_id_sent
    if reservation_id is None or transaction.reservation_id == reservation_id:
        return
    reservation = Reservation.objects.filter(pk=reservation_id, station_id=transaction.station_id).first()
    if reservation is None:
        return
    Transaction.objects.filter(pk=transaction.pk).update(reservation=reservation)
    transaction.reservation = reservation
    if reservation.status != Reservation.Status.USED:
        reservation.status = Reservation.Status.USED
        reservation.save(update_fields=["status", "updated_at"])


