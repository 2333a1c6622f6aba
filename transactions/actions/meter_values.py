"""Meter values sent by stations: flattened to base units and stored, tied to their transaction."""
from .. import metering
from ..models import MeterValue, Transaction
from ..signals import meter_values_stored
from .common import OCPP16, OCPP201, _retrying, parse_time
from .derivation import derive, fold_in_order
from .settlement import heard_from


def sampled_values(meter_values, version):
    """Flatten meterValue[] into MeterValue field dicts (defaults per OCPP: measurand
    Energy.Active.Import.Register, context Sample.Periodic, location Outlet, unit Wh)."""
    rows = []
    for meter_value in meter_values or []:
        timestamp = parse_time(meter_value["timestamp"])
        for sample in meter_value["sampledValue"]:
            measurand = sample.get("measurand", metering.ENERGY_REGISTER)
            if version == OCPP201:
                unit_of_measure = sample.get("unitOfMeasure") or {}
                unit = unit_of_measure.get("unit") or metering.default_unit(measurand)
                multiplier = unit_of_measure.get("multiplier", 0)
                signed = sample.get("signedMeterValue")
            else:
                unit = sample.get("unit") or metering.default_unit(measurand)
                multiplier = 0
                signed = {"format": "SignedData"} if sample.get("format") == "SignedData" else None
            raw = sample["value"]
            value, base_unit = (None, unit) if signed and version == OCPP16 else metering.normalize(
                raw, unit, multiplier)
            rows.append({
                "timestamp": timestamp, "measurand": measurand, "phase": sample.get("phase", ""),
                "location": sample.get("location", "Outlet"),
                "context": sample.get("context", "Sample.Periodic"),
                "raw_value": str(raw)[:2500], "unit": unit, "multiplier": multiplier,
                "value": value, "base_unit": base_unit, "signed_meter_value": signed,
            })
    return rows


def store_meter_values(station_pk, rows, transaction=None, evse_id=None, connector_id=None,
                       event=None, after_end=False):
    # A repeated reading of a transaction is ignored by its unique key (counted once).
    MeterValue.objects.bulk_create(
        [MeterValue(station_id=station_pk, transaction=transaction, evse_id=evse_id,
                    connector_id=connector_id, event=event, after_end=after_end, **row)
         for row in rows],
        ignore_conflicts=transaction is not None,
    )
    if rows and not after_end:
        meter_values_stored.send(sender=MeterValue, station_pk=station_pk, transaction=transaction,
                                 evse_id=evse_id, connector_id=connector_id, rows=rows)


def record_meter_values_201(station_pk, evse_id, meter_values):
    """2.0.1 MeterValues: readings outside transactions (evseId 0 is the main meter)."""
    store_meter_values(station_pk, sampled_values(meter_values, OCPP201), evse_id=evse_id)


def record_meter_values_16(station_pk, connector_id, meter_values, transaction_id=None):
    """1.6 MeterValues: tied to its transaction when it names one the CSMS knows."""
    rows = sampled_values(meter_values, OCPP16)

    def store():
        transaction = None
        if transaction_id is not None:
            transaction = (Transaction.objects.select_for_update()
                           .filter(station_id=station_pk, transaction_id=str(transaction_id)).first())
        if transaction is not None and transaction.state == Transaction.State.ENDED \
                and not transaction.closed_by_csms:
            # After the station's StopTransaction: its meterStop is the bill; keep, never count.
            store_meter_values(station_pk, rows, transaction, connector_id=connector_id,
                               after_end=True)
            return
        store_meter_values(station_pk, rows, transaction, connector_id=connector_id)
        if transaction is None:
            return
        heard_from(transaction)
        if not fold_in_order(transaction, rows):
            derive(transaction)
    _retrying(store)


