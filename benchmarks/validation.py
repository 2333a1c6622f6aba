"""Schema validation cost per message: jsonschema vs fastjsonschema vs jsonschema-rs.

Prints ms per validation of a TransactionEvent with meter values (the hottest large message).
Run: .venv/bin/python benchmarks/validation.py   (needs `pip install fastjsonschema`)
"""
import json
import platform
import sys
import time
from datetime import datetime, timezone

import jsonschema
import jsonschema_rs

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
from csms.ocpp.schemas import schema_path  # noqa: E402

try:
    import fastjsonschema
except ImportError:  # optional: only this comparison uses it
    fastjsonschema = None

PAYLOAD = {
    "eventType": "Updated", "timestamp": "2026-01-01T00:00:00Z", "triggerReason": "MeterValuePeriodic",
    "seqNo": 3, "transactionInfo": {"transactionId": "tx-1", "chargingState": "Charging"},
    "evse": {"id": 1, "connectorId": 1},
    "meterValue": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [
        {"value": 1234.5, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}},
        {"value": 7000, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
        {"value": 16.1, "measurand": "Current.Import", "phase": "L1"},
        {"value": 230.2, "measurand": "Voltage", "phase": "L1-N"},
    ]}],
}


def per_call_ms(function, rounds=5000):
    function()
    started = time.perf_counter()
    for _ in range(rounds):
        function()
    return (time.perf_counter() - started) / rounds * 1000


def main():
    schema = json.loads(schema_path("2.0.1", "TransactionEvent", "request").read_text())
    candidates = {
        "jsonschema (Draft6Validator)": jsonschema.Draft6Validator(schema).validate,
        "jsonschema-rs (validator_for)": jsonschema_rs.validator_for(schema).validate,
    }
    if fastjsonschema is not None:
        candidates["fastjsonschema (compile)"] = fastjsonschema.compile(schema)
    print(f"{datetime.now(timezone.utc):%Y-%m-%d} {platform.machine()} {platform.python_version()}")
    for name, validate in candidates.items():
        print(f"{name:32s} {per_call_ms(lambda: validate(PAYLOAD)):.4f} ms per TransactionEvent")


if __name__ == "__main__":
    main()
