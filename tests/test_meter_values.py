"""Meter values: 2.0.1 unitOfMeasure with multiplier, phases and contexts, readings outside
transactions, and the meter-values / power curve of the API."""
import uuid
from decimal import Decimal

from tests.transactions_helpers import at, event
from transactions.models import MeterValue, Transaction


def test_201_units_multipliers_and_phases(connect_station, identity, api):
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    started = event("Started", 0, 0, transaction_id, trigger="CablePluggedIn", evse=1)
    started["meterValue"] = [{"timestamp": at(0), "sampledValue": [
        {"value": 12.5, "context": "Transaction.Begin", "unitOfMeasure": {"unit": "kWh"}},
        {"value": 230.1, "measurand": "Voltage", "phase": "L1-N", "unitOfMeasure": {"unit": "V"}},
    ]}]
    station.call("TransactionEvent", started)
    updated = event("Updated", 1, 1800, transaction_id)
    updated["meterValue"] = [{"timestamp": at(1800), "sampledValue": [
        {"value": 140, "unitOfMeasure": {"unit": "Wh", "multiplier": 2}},  # 14 000 Wh
        {"value": 3.7, "measurand": "Power.Active.Import", "phase": "L1",
         "unitOfMeasure": {"unit": "kW"}},
        {"value": 3.6, "measurand": "Power.Active.Import", "phase": "L2",
         "unitOfMeasure": {"unit": "kW"}},
        {"value": 81, "measurand": "SoC", "location": "EV", "unitOfMeasure": {"unit": "Percent"}},
    ]}]
    station.call("TransactionEvent", updated)
    row = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id)
    assert row.meter_start_wh == Decimal("12500") and row.energy_wh == Decimal("1500")
    multiplied = MeterValue.objects.get(transaction=row, raw_value="140")
    assert (multiplied.multiplier, multiplied.value, multiplied.context) == (2, Decimal("14000"),
                                                                            "Sample.Periodic")
    soc = MeterValue.objects.get(transaction=row, measurand="SoC")
    assert (soc.location, soc.unit, soc.value) == ("EV", "Percent", Decimal("81"))

    values = api.get(f"/transactions/{row.pk}/meter-values/").json()
    assert values["count"] == 6
    assert [v["measurand"] for v in values["results"]][:2] == ["Energy.Active.Import.Register", "Voltage"]
    power = api.get(f"/transactions/{row.pk}/meter-values/",
                    params={"measurand": "Power.Active.Import"}).json()
    assert {v["phase"] for v in power["results"]} == {"L1", "L2"}
    # Phases summed per timestamp: 7.3 kW.
    assert api.get(f"/transactions/{row.pk}/").json()["power_curve"] == [[
        "2026-03-01T08:30:00+00:00", 7300.0]]


def test_201_meter_values_outside_transactions(connect_station, identity):
    station = connect_station(identity)
    station.call("MeterValues", {"evseId": 0, "meterValue": [{"timestamp": at(0), "sampledValue": [
        {"value": 50.02, "measurand": "Frequency"},
        {"value": 1234.5, "context": "Sample.Clock", "unitOfMeasure": {"unit": "kWh", "multiplier": -1}},
    ]}]})
    rows = MeterValue.objects.filter(station__identity=identity, transaction__isnull=True)
    assert rows.count() == 2
    energy = rows.get(measurand="Energy.Active.Import.Register")
    assert energy.evse_id == 0 and energy.value == Decimal("123450") and energy.base_unit == "Wh"


def test_16_meter_values_without_transaction_and_signed(connect_station, identity):
    station = connect_station(identity, "1.6")
    station.call("MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": at(0), "sampledValue": [
        {"value": "4711"}, {"value": "AQIDBA==", "format": "SignedData", "context": "Sample.Clock"},
        {"value": "16.2", "measurand": "Current.Import", "unit": "A", "phase": "L3"}]}]})
    rows = MeterValue.objects.filter(station__identity=identity)
    assert rows.get(raw_value="4711").value == Decimal("4711")
    signed = rows.get(raw_value="AQIDBA==")
    assert signed.value is None and signed.signed_meter_value == {"format": "SignedData"}
    assert rows.get(measurand="Current.Import").phase == "L3"
