"""Builders for charging-session tests: tokens, tariffs, 2.0.1 TransactionEvents, 1.6 messages."""
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from transactions.models import IdToken, StationTariff, Tariff

T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=timezone.utc)


def at(seconds):
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def new_token(prefix="TAG", **fields):
    value = f"{prefix}{uuid.uuid4().hex[:10].upper()}"
    fields.setdefault("type", "ISO14443")
    return IdToken.objects.create(id_token=value, **fields)


def tariff_for_station(identity, **prices):
    from stations.models import Station

    station, _ = Station.objects.get_or_create(identity=identity)
    values = {"price_per_kwh": Decimal("0.30"), "currency": "EUR"}
    values.update(prices)
    tariff = Tariff.objects.create(name=f"tariff-{uuid.uuid4().hex[:8]}", **values)
    StationTariff.objects.update_or_create(station=station, defaults={"tariff": tariff})
    return tariff


def energy(wh, timestamp, context="Sample.Periodic", **extra):
    sample = {"value": wh, "context": context, "measurand": "Energy.Active.Import.Register",
              "unitOfMeasure": {"unit": "Wh"}}
    sample.update(extra)
    return {"timestamp": timestamp, "sampledValue": [sample]}


def event(event_type, seq_no, seconds, transaction_id, trigger="MeterValuePeriodic", token=None,
          charging_state=None, meter_wh=None, evse=None, offline=None, **info):
    payload = {"eventType": event_type, "timestamp": at(seconds), "triggerReason": trigger,
               "seqNo": seq_no, "transactionInfo": {"transactionId": transaction_id, **info}}
    if charging_state:
        payload["transactionInfo"]["chargingState"] = charging_state
    if token is not None:
        payload["idToken"] = {"idToken": token.id_token, "type": token.type} \
            if isinstance(token, IdToken) else token
    if meter_wh is not None:
        context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(
            event_type, "Sample.Periodic")
        payload["meterValue"] = [energy(meter_wh, at(seconds), context)]
    if evse is not None:
        payload["evse"] = {"id": evse, "connectorId": 1}
    if offline is not None:
        payload["offline"] = offline
    return payload


def normal_session(transaction_id, token, start_wh=1000, charging=(0, 3600)):
    """Started at 0 s (charging), two periodic readings, Ended after an hour: 7.5 kWh, 60 min
    charging then 30 min idle (SuspendedEV) before the cable is pulled."""
    start, stop = charging
    return [
        event("Started", 0, start, transaction_id, trigger="Authorized", token=token,
              charging_state="Charging", meter_wh=start_wh, evse=1),
        event("Updated", 1, 1200, transaction_id, meter_wh=start_wh + 2500),
        event("Updated", 2, 2400, transaction_id, meter_wh=start_wh + 5000),
        event("Updated", 3, stop, transaction_id, trigger="ChargingStateChanged",
              charging_state="SuspendedEV", meter_wh=start_wh + 7500),
        event("Ended", 4, 5400, transaction_id, trigger="EVDeparted", meter_wh=start_wh + 7500,
              stoppedReason="EVDisconnected", charging_state="Idle"),
    ]


def start_16(connector_id, token, meter_start, seconds, **extra):
    payload = {"connectorId": connector_id, "idTag": token if isinstance(token, str) else token.id_token,
               "meterStart": meter_start, "timestamp": at(seconds)}
    payload.update(extra)
    return payload


def meter_values_16(connector_id, transaction_id, wh, seconds, unit="Wh", **sample):
    value = {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": unit,
             "context": "Sample.Periodic"}
    value.update(sample)
    payload = {"connectorId": connector_id, "meterValue": [{"timestamp": at(seconds),
                                                            "sampledValue": [value]}]}
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    return payload


def stop_16(transaction_id, meter_stop, seconds, **extra):
    payload = {"transactionId": transaction_id, "meterStop": meter_stop, "timestamp": at(seconds)}
    payload.update(extra)
    return payload
