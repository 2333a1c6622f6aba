"""The bill follows the station's stop: the reading in StopTransaction / the Ended event is the
meter stop; readings sent after the end are kept, flagged after_end, never billed; start and stop
follow event order, and an impossible result is flagged, not billed."""
import uuid
from decimal import Decimal

import pytest

from tests.transactions_helpers import (
    event, meter_values_16, new_token, start_16, stop_16, tariff_for_station,
)
from transactions.models import MeterValue, Transaction


def row(identity, transaction_id):
    return Transaction.objects.get(station__identity=identity, transaction_id=str(transaction_id))


@pytest.mark.parametrize("late_first", [False, True], ids=["in-order", "late-update-first"])
def test_updated_after_ended_is_kept_not_billed(connect_station, identity, api, late_first):
    tariff_for_station(identity, price_per_kwh=Decimal("0.40"))
    station = connect_station(identity)
    tx = f"tx-{uuid.uuid4().hex[:8]}"
    late = event("Updated", 3, 3700, tx, meter_wh=6150)
    station.call("TransactionEvent", event("Started", 0, 0, tx, trigger="Authorized",
                                           token=new_token(), meter_wh=1000, evse=1,
                                           charging_state="Charging"))
    station.call("TransactionEvent", event("Updated", 1, 1800, tx, meter_wh=4000))
    if late_first:  # an offline burst: the later seqNo arrives before the Ended
        station.call("TransactionEvent", late)
    ended = station.call("TransactionEvent", event("Ended", 2, 3600, tx, trigger="EVDeparted",
                                                   meter_wh=6000, stoppedReason="EVDisconnected"))
    if not late_first:
        station.call("TransactionEvent", late)

    stored = row(identity, tx)
    assert stored.state == "Ended" and stored.anomaly == ""
    assert (stored.meter_start_wh, stored.meter_stop_wh, stored.energy_wh) == (
        Decimal("1000"), Decimal("6000"), Decimal("5000"))
    assert stored.total_cost == Decimal("2.00") and ended["totalCost"] == 2.0
    flagged = MeterValue.objects.get(transaction=stored, raw_value="6150")
    assert flagged.after_end
    assert not MeterValue.objects.filter(transaction=stored, after_end=False,
                                         value__gt=Decimal("6000")).exists()
    readings = api.get(f"/transactions/{stored.pk}/meter-values/").json()["results"]
    assert {r["raw_value"]: r["after_end"] for r in readings}["6150"] is True


def test_meter_values_after_stop_16_are_kept_not_billed(connect_station, identity):
    station = connect_station(identity, "1.6")
    token = new_token()
    transaction_id = station.call("StartTransaction", start_16(1, token, 1000, 0))["transactionId"]
    station.call("MeterValues", meter_values_16(1, transaction_id, 3000, 600))
    station.call("StopTransaction", stop_16(transaction_id, 6000, 3600, reason="Local"))
    # A MeterValues the station sends after its stop (a late periodic sample).
    station.call("MeterValues", meter_values_16(1, transaction_id, 6090, 3660))

    stored = row(identity, transaction_id)
    assert (stored.meter_start_wh, stored.meter_stop_wh, stored.energy_wh) == (
        Decimal("1000"), Decimal("6000"), Decimal("5000"))
    late = MeterValue.objects.get(transaction=stored, raw_value="6090")
    assert late.after_end
    assert not MeterValue.objects.get(transaction=stored, raw_value="3000").after_end


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_replay_with_stop_before_start_is_flagged_not_billed(connect_station, identity, version,
                                                             api, dashboard):
    tariff_for_station(identity, price_per_kwh=Decimal("0.30"), price_per_session=Decimal("1"))
    station = connect_station(identity, version)
    token = new_token()
    # An offline replay: the start carries a later time and a higher register than the stop.
    if version == "1.6":
        transaction_id = station.call("StartTransaction", start_16(1, token, 9000, 3600))["transactionId"]
        station.call("StopTransaction", stop_16(transaction_id, 2000, 0))
    else:
        transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
        station.call("TransactionEvent", event("Started", 0, 3600, transaction_id,
                                               trigger="Authorized", token=token, meter_wh=9000,
                                               evse=1, offline=True))
        ended = station.call("TransactionEvent", event("Ended", 1, 0, transaction_id,
                                                       trigger="StopAuthorized", meter_wh=2000,
                                                       offline=True, stoppedReason="Local"))
        assert "totalCost" not in ended

    stored = row(identity, transaction_id)
    assert stored.state == "Ended"
    # Start and stop follow event order, the readings are kept as sent ...
    assert (stored.meter_start_wh, stored.meter_stop_wh) == (Decimal("9000"), Decimal("2000"))
    assert stored.started_at > stored.ended_at
    # ... but nothing impossible is billed: energy 0, no cost, and the operator is told why.
    assert stored.energy_wh == 0 and stored.total_cost is None
    assert "Negative energy" in stored.anomaly and "Ended before it started" in stored.anomaly
    shown = api.get(f"/transactions/{stored.pk}/").json()
    assert shown["anomaly"] == stored.anomaly and shown["total_cost"] is None
    page = dashboard.get(f"/transactions/{stored.pk}/")
    assert 'id="transaction-anomaly"' in page.text and "Negative energy" in page.text


def test_ended_without_reading_stops_at_the_last_one(connect_station, identity):
    station = connect_station(identity)
    tx = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event("Started", 0, 0, tx, trigger="Authorized",
                                           token=new_token(), meter_wh=500, evse=1))
    station.call("TransactionEvent", event("Updated", 1, 600, tx, meter_wh=1700))
    station.call("TransactionEvent", event("Ended", 2, 900, tx, trigger="EVDeparted",
                                           stoppedReason="EVDisconnected"))
    stored = row(identity, tx)
    assert (stored.meter_start_wh, stored.meter_stop_wh, stored.energy_wh) == (
        Decimal("500"), Decimal("1700"), Decimal("1200"))
    assert stored.anomaly == ""


def test_flagged_transactions_are_found_by_filter(connect_station, identity, api):
    station = connect_station(identity)
    flagged, fine = (f"tx-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for transaction_id, stop_wh in ((flagged, 10), (fine, 900)):
        station.call("TransactionEvent", event("Started", 0, 0, transaction_id,
                                               trigger="Authorized", token=new_token(),
                                               meter_wh=500, evse=1))
        station.call("TransactionEvent", event("Ended", 1, 60, transaction_id,
                                               trigger="EVDeparted", meter_wh=stop_wh))
    found = api.get("/transactions/", params={"station": identity, "flagged": "true"}).json()
    assert [t["transaction_id"] for t in found["results"]] == [flagged]
    rest = api.get("/transactions/", params={"station": identity, "flagged": "false"}).json()
    assert [t["transaction_id"] for t in rest["results"]] == [fine]
