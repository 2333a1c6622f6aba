"""1.6 StartTransaction / MeterValues / StopTransaction: CSMS-made transaction ids, repeats after
a reconnect, energy from meterStart/meterStop, cost, and a stop by another tag of the group."""
from decimal import Decimal

from tests.transactions_helpers import (
    meter_values_16, new_token, start_16, stop_16, tariff_for_station,
)
from transactions.models import MeterValue, Transaction


def test_normal_session_16(connect_station, identity):
    tariff_for_station(identity, price_per_kwh=Decimal("0.25"), price_per_session=Decimal("0.50"),
                       vat_percent=Decimal("10"))
    token = new_token()
    station = connect_station(identity, "1.6")
    assert station.call("Authorize", {"idTag": token.id_token})["idTagInfo"]["status"] == "Accepted"
    started = station.call("StartTransaction", start_16(1, token, 10_000, 0))
    transaction_id = started["transactionId"]
    assert isinstance(transaction_id, int) and started["idTagInfo"]["status"] == "Accepted"
    station.call("MeterValues", meter_values_16(1, transaction_id, 12_000, 1800))
    # kWh and a per-phase reading: stored as sent and normalized.
    station.call("MeterValues", meter_values_16(1, transaction_id, "13.5", 2700, unit="kWh"))
    station.call("MeterValues", meter_values_16(1, transaction_id, "7.2", 2700, unit="kW",
                                                measurand="Power.Active.Import", phase="L1"))
    stopped = station.call("StopTransaction", stop_16(
        transaction_id, 16_000, 3600, idTag=token.id_token, reason="EVDisconnected",
        transactionData=[{"timestamp": "2026-03-01T08:59:00Z", "sampledValue": [
            {"value": "15900", "context": "Sample.Clock"}]}]))
    assert stopped["idTagInfo"]["status"] == "Accepted"

    row = Transaction.objects.get(station__identity=identity, transaction_id=str(transaction_id))
    assert row.ocpp_version == "1.6" and row.state == "Ended"
    assert row.connector_id == 1 and row.evse_id is None and row.id_token_id == token.pk
    assert (row.meter_start_wh, row.meter_stop_wh, row.energy_wh) == (
        Decimal("10000"), Decimal("16000"), Decimal("6000"))
    assert row.stopped_reason == "EVDisconnected"
    # 6 kWh x 0.25 + 0.50 = 2.00, +10% VAT.
    assert row.total_cost == Decimal("2.20")
    kwh = MeterValue.objects.get(transaction=row, raw_value="13.5")
    assert (kwh.unit, kwh.value, kwh.base_unit) == ("kWh", Decimal("13500"), "Wh")
    power = MeterValue.objects.get(transaction=row, measurand="Power.Active.Import")
    assert (power.phase, power.value, power.base_unit) == ("L1", Decimal("7200"), "W")
    assert MeterValue.objects.filter(transaction=row).count() == 6


def test_repeated_start_after_reconnect_gets_the_same_id(connect_station, identity):
    token = new_token()
    station = connect_station(identity, "1.6")
    first = station.call("StartTransaction", start_16(2, token, 500, 100))
    station.close()
    again = connect_station(identity, "1.6")
    repeat = again.call("StartTransaction", start_16(2, token, 500, 100))
    assert repeat["transactionId"] == first["transactionId"]
    other = again.call("StartTransaction", start_16(1, new_token(), 0, 100))
    assert other["transactionId"] != first["transactionId"]
    assert Transaction.objects.filter(station__identity=identity).count() == 2
    # A repeated MeterValues and StopTransaction count once.
    for _ in range(2):
        again.call("MeterValues", meter_values_16(2, first["transactionId"], 900, 200))
        assert again.call("StopTransaction", stop_16(first["transactionId"], 1500, 300)) == {}
    row = Transaction.objects.get(station__identity=identity, transaction_id=str(first["transactionId"]))
    assert row.energy_wh == Decimal("1000") and row.events.count() == 2
    assert MeterValue.objects.filter(transaction=row).count() == 3


def test_transaction_ids_are_unique_across_stations(connect_station, identity):
    ids = set()
    for suffix in ("a", "b"):
        station = connect_station(f"{identity}{suffix}", "1.6")
        for connector in (1, 2):
            ids.add(station.call("StartTransaction", start_16(connector, new_token(), 0, 0))["transactionId"])
    assert len(ids) == 4


def test_group_member_stops_16(connect_station, identity):
    group = new_token("ACCOUNT", type="Central")
    starter, stopper = new_token(group=group), new_token(group=group)
    station = connect_station(identity, "1.6")
    authorized = station.call("Authorize", {"idTag": stopper.id_token})["idTagInfo"]
    assert authorized["parentIdTag"] == group.id_token
    started = station.call("StartTransaction", start_16(1, starter, 0, 0))
    assert started["idTagInfo"]["parentIdTag"] == group.id_token
    stopped = station.call("StopTransaction", stop_16(started["transactionId"], 2000, 600,
                                                      idTag=stopper.id_token, reason="Local"))
    assert stopped["idTagInfo"] == {"status": "Accepted", "parentIdTag": group.id_token,
                                    "expiryDate": stopped["idTagInfo"]["expiryDate"]}
    row = Transaction.objects.get(station__identity=identity,
                                  transaction_id=str(started["transactionId"]))
    assert row.id_token_value == starter.id_token and row.stop_id_token_value == stopper.id_token


def test_stop_of_an_unknown_transaction_is_kept(connect_station, identity):
    station = connect_station(identity, "1.6")
    assert station.call("StopTransaction", stop_16(987654, 4200, 50)) == {}
    row = Transaction.objects.get(station__identity=identity, transaction_id="987654")
    assert row.state == "Ended" and row.meter_stop_wh == Decimal("4200")
