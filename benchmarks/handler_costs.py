"""What each kind of station message costs the CSMS once it is parsed: the domain handler alone
(database included), called directly in this process, no WebSocket. Prints CPU ms, wall ms and
queries per message for the realistic mix, so a change to a handler can be weighed on its own.

Usage: .venv/bin/python benchmarks/handler_costs.py [--backend services|embedded] [--sessions 50]
"""
import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common  # noqa: E402


def at(start, seconds):
    return (start + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def meter(start, seconds, wh, context="Sample.Periodic"):
    return [{"timestamp": at(start, seconds), "sampledValue": [
        {"value": wh, "context": context, "measurand": "Energy.Active.Import.Register",
         "unitOfMeasure": {"unit": "Wh"}},
        {"value": 7200 + seconds % 300, "context": context, "measurand": "Power.Active.Import",
         "unitOfMeasure": {"unit": "W"}},
    ]}]


LAST_QUERIES = {}  # message -> the SQL of its latest call (--sql prints them)


def measure(costs, name, function, *args):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        cpu, wall = time.process_time(), time.perf_counter()
        function(*args)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    costs.setdefault(name, []).append((cpu * 1000, wall * 1000, len(queries)))
    LAST_QUERIES[name] = [query["sql"] for query in queries.captured_queries]


def session_201(costs, station, start, updates):
    from stations import actions as stations
    from transactions import actions

    transaction_id = f"tx-{uuid.uuid4().hex[:10]}"
    token = {"idToken": f"RFID{uuid.uuid4().hex[:8].upper()}", "type": "ISO14443"}
    measure(costs, "StatusNotification (connector first seen)", stations.record_connector_status,
            station.pk, 1, 1, "Occupied")
    measure(costs, "Authorize", actions.authorize_request, station.pk, "2.0.1", token["idToken"],
            token["type"])
    base = {"transactionInfo": {"transactionId": transaction_id, "chargingState": "Charging"},
            "evse": {"id": 1, "connectorId": 1}}
    measure(costs, "TransactionEvent Started", actions.record_transaction_event, station.pk, {
        **base, "eventType": "Started", "timestamp": at(start, 0), "triggerReason": "Authorized",
        "seqNo": 0, "idToken": token, "meterValue": meter(start, 0, 1000, "Transaction.Begin")})
    for seq_no in range(1, updates + 1):
        measure(costs, "TransactionEvent Updated", actions.record_transaction_event, station.pk, {
            "transactionInfo": {"transactionId": transaction_id}, "eventType": "Updated",
            "timestamp": at(start, 10 * seq_no), "triggerReason": "MeterValuePeriodic",
            "seqNo": seq_no, "meterValue": meter(start, 10 * seq_no, 1000 + 20 * seq_no)})
    measure(costs, "TransactionEvent Ended", actions.record_transaction_event, station.pk, {
        "transactionInfo": {"transactionId": transaction_id, "stoppedReason": "Local"},
        "eventType": "Ended", "timestamp": at(start, 10 * updates + 10),
        "triggerReason": "StopAuthorized", "seqNo": updates + 1, "idToken": token,
        "meterValue": meter(start, 10 * updates + 10, 1000 + 20 * updates, "Transaction.End")})
    measure(costs, "StatusNotification", stations.record_connector_status, station.pk, 1, 1,
            "Available")


def session_16(costs, station, start, updates):
    from transactions import actions

    id_tag = f"TAG{uuid.uuid4().hex[:8].upper()}"
    measure(costs, "Authorize (1.6)", actions.authorize_request, station.pk, "1.6", id_tag)
    answer = {}

    def start_transaction():
        answer.update(actions.start_transaction_16(station.pk, {
            "connectorId": 1, "idTag": id_tag, "meterStart": 1000, "timestamp": at(start, 0)}))

    measure(costs, "StartTransaction (1.6)", start_transaction)
    transaction_id = answer["transactionId"]
    for index in range(1, updates + 1):
        measure(costs, "MeterValues (1.6, in a transaction)", actions.record_meter_values_16,
                station.pk, 1, [{"timestamp": at(start, 10 * index), "sampledValue": [
                    {"value": str(1000 + 20 * index), "measurand": "Energy.Active.Import.Register",
                     "unit": "Wh"}]}], transaction_id)
    measure(costs, "StopTransaction (1.6)", actions.stop_transaction_16, station.pk, {
        "transactionId": transaction_id, "idTag": id_tag, "meterStop": 1000 + 20 * updates,
        "timestamp": at(start, 10 * updates + 10), "reason": "Local"})


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["embedded", "services"], default="services")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--updates", type=int, default=20, help="meter events per session")
    parser.add_argument("--sql", action="store_true", help="print each message's queries")
    options = parser.parse_args()
    backend = common.Backend(options.backend)
    os.environ.update(backend.environ())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csms.settings")
    import django

    django.setup()
    from csms.ocpp import runtime
    from stations.models import Station

    # As in a server process: dashboard pushes are gathered on the event loop, not made inline.
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    runtime._loop = loop

    costs = {}
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    try:
        for index in range(options.sessions):
            station_201 = Station.objects.create(identity=f"COST-{index}", ocpp_version="2.0.1")
            station_16 = Station.objects.create(identity=f"COST16-{index}", ocpp_version="1.6")
            session_201(costs, station_201, start, options.updates)
            session_16(costs, station_16, start, options.updates)
    finally:
        from django.db import connections

        # Let the last gathered dashboard pushes go out before the loop and database go away.
        time.sleep(0.5)  # twice the coalescing delay (runtime.coalesce)
        loop.call_soon_threadsafe(loop.stop)
        connections.close_all()
        backend.close()
    lines = [
        f"# Handler costs ({common.now()})",
        f"machine: {common.machine()}; load average at end {common.load_average()}",
        f"backend: {backend.describe()}; {options.sessions} sessions per version, "
        f"{options.updates} meter events each; handlers called in-process (no WebSocket, "
        "no schema validation, no message log)",
        "",
        "| message | calls | CPU ms (median) | CPU ms (p90) | wall ms (median) | queries |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, samples in costs.items():
        cpu = sorted(sample[0] for sample in samples)
        lines.append(
            f"| {name} | {len(samples)} | {statistics.median(cpu):.2f} | "
            f"{cpu[int(0.9 * (len(cpu) - 1))]:.2f} | "
            f"{statistics.median(sample[1] for sample in samples):.2f} | "
            f"{statistics.median(sample[2] for sample in samples):.0f} |")
    common.record(f"handler_costs-{options.backend}", lines)
    if options.sql:
        for name, queries in LAST_QUERIES.items():
            print(f"\n{name}:")
            for sql in queries:
                print(f"  {sql[:160]}")


if __name__ == "__main__":
    main()
