"""Property: any permutation and duplication of a transaction's events yields the same stored
transaction, energy and cost as receiving them once, in order; and events folded in as they come
leave the row exactly as re-deriving it from everything stored does."""
import uuid
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stations.models import Station
from tests.transactions_helpers import event, new_token, tariff_for_station
from transactions import actions
from transactions.models import Transaction

COMPARED = ["state", "started_at", "ended_at", "evse_id", "connector_id", "id_token_id",
            "id_token_value", "stop_id_token_value", "charging_state", "stopped_reason",
            "remote_start_id", "time_spent_charging", "offline", "last_seq_no", "event_count",
            "meter_start_wh", "meter_stop_wh", "energy_wh", "charging_seconds", "total_cost",
            "cost_breakdown", "anomaly"]
STATES = ["Charging", "EVConnected", "SuspendedEV", "SuspendedEVSE", None]


@st.composite
def sessions(draw):
    """A session's events: Started, some Updated, maybe Ended; each with a register reading."""
    updates = draw(st.integers(min_value=0, max_value=8))
    steps = draw(st.lists(st.integers(min_value=0, max_value=4000), min_size=updates + 1,
                          max_size=updates + 1))
    states = draw(st.lists(st.sampled_from(STATES), min_size=updates + 1, max_size=updates + 1))
    ended = draw(st.booleans())
    offline = draw(st.booleans())
    start_wh = draw(st.integers(min_value=0, max_value=10**7))
    return {"updates": updates, "steps": steps, "states": states, "ended": ended,
            "offline": offline, "start_wh": start_wh, "phases": draw(st.sampled_from([None, 1, 3])),
            # A sample the station sends after its Ended (a higher seqNo): kept, never billed.
            "late_wh": draw(st.one_of(st.none(), st.integers(min_value=1, max_value=500)))}


def build(spec, transaction_id, starter, stopper):
    wh = spec["start_wh"]
    events = [event("Started", 0, 0, transaction_id, trigger="Authorized", token=starter,
                    charging_state=spec["states"][0] or "Charging", meter_wh=wh, evse=2,
                    offline=spec["offline"], remoteStartId=7)]
    for index in range(spec["updates"]):
        wh += spec["steps"][index]
        payload = event("Updated", index + 1, 300 * (index + 1), transaction_id,
                        charging_state=spec["states"][index + 1], meter_wh=wh)
        if spec["phases"]:
            payload["numberOfPhasesUsed"] = spec["phases"]
        events.append(payload)
    if spec["ended"]:
        wh += spec["steps"][-1]
        events.append(event("Ended", spec["updates"] + 1, 300 * (spec["updates"] + 1) + 60,
                            transaction_id, trigger="StopAuthorized", token=stopper,
                            meter_wh=wh, stoppedReason="Remote"))
        if spec["late_wh"]:
            events.append(event("Updated", spec["updates"] + 2, 300 * (spec["updates"] + 2),
                                transaction_id, meter_wh=wh + spec["late_wh"]))
    return events


def stored(station, transaction_id):
    row = Transaction.objects.get(station=station, transaction_id=transaction_id)
    values = {field: getattr(row, field) for field in COMPARED}
    values["meter_values"] = sorted(
        (mv.timestamp, mv.measurand, mv.context, mv.value, mv.after_end)
        for mv in row.meter_values.all())
    return values


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=sessions(), data=st.data())
def test_any_order_and_repeats_store_the_same_transaction(spec, data):
    station, _ = Station.objects.get_or_create(identity="property-station")
    if not hasattr(test_any_order_and_repeats_store_the_same_transaction, "tokens"):
        tariff_for_station("property-station", price_per_minute=Decimal("0.05"),
                           idle_fee_per_minute=Decimal("0.10"), idle_grace_minutes=2,
                           vat_percent=Decimal("21"))
        test_any_order_and_repeats_store_the_same_transaction.tokens = (new_token(), new_token())
    starter, stopper = test_any_order_and_repeats_store_the_same_transaction.tokens

    in_order_id, shuffled_id = (f"p-{uuid.uuid4().hex[:12]}" for _ in range(2))
    for payload in build(spec, in_order_id, starter, stopper):
        actions.record_transaction_event(station.pk, payload)

    events = build(spec, shuffled_id, starter, stopper)
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=len(events)), label="repeats")
    arrival = data.draw(st.permutations(events + repeats), label="arrival")
    answers = {}
    for payload in arrival:
        answer = actions.record_transaction_event(station.pk, payload)
        # A repeat answers exactly as the first delivery did.
        assert answers.setdefault(payload["seqNo"], answer) == answer

    assert stored(station, shuffled_id) == stored(station, in_order_id)

    in_order = stored(station, in_order_id)
    if spec["ended"]:  # the bill is the Ended's reading minus the Started's
        assert in_order["meter_stop_wh"] - in_order["meter_start_wh"] == in_order["energy_wh"]
        assert in_order["meter_stop_wh"] == spec["start_wh"] + sum(spec["steps"])
    folded = Transaction.objects.get(station=station, transaction_id=in_order_id).derivation
    actions.derive(Transaction.objects.get(station=station, transaction_id=in_order_id))
    rederived = Transaction.objects.get(station=station, transaction_id=in_order_id)
    assert stored(station, in_order_id) == in_order
    assert rederived.derivation == folded
