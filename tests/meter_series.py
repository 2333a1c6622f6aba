"""A long 2.0.1 charging session for the transaction page's tests: every 10 s an energy register
(Wh), power (kW, stored in W) and the current of three phases (A), five sampled values a time."""
from tests.transactions_helpers import at, event

PHASES = ("L1", "L2", "L3")
INTERVAL = 10


def readings(step):
    """The sampled values at step `step` (0: the start)."""
    seconds = step * INTERVAL
    context = "Transaction.Begin" if step == 0 else "Sample.Periodic"
    values = [
        {"value": 1000 + 30 * step, "context": context, "measurand": "Energy.Active.Import.Register",
         "unitOfMeasure": {"unit": "Wh"}},
        {"value": 10.8 + (step % 3) * 0.1, "context": context, "measurand": "Power.Active.Import",
         "unitOfMeasure": {"unit": "kW"}},
    ]
    values += [{"value": 16 + index, "context": context, "measurand": "Current.Import",
                "phase": phase, "unitOfMeasure": {"unit": "A"}} for index, phase in enumerate(PHASES)]
    return {"timestamp": at(seconds), "sampledValue": values}


def send_long_session(station, transaction_id, token, steps, per_message=40):
    """Started with step 0's readings, then Updated events carrying `per_message` timestamps each
    (a station sending its queued readings); still running after `steps` timestamps."""
    started = event("Started", 0, 0, transaction_id, trigger="Authorized", token=token, evse=1,
                    charging_state="Charging")
    started["meterValue"] = [readings(0)]
    station.call("TransactionEvent", started)
    seq_no = 1
    for first in range(1, steps, per_message):
        batch = range(first, min(first + per_message, steps))
        updated = event("Updated", seq_no, batch[-1] * INTERVAL, transaction_id)
        updated["meterValue"] = [readings(step) for step in batch]
        station.call("TransactionEvent", updated)
        seq_no += 1
