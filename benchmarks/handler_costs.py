"""What each kind of station message costs the CSMS once it is parsed: its registered handler
(database included, group commit and all: csms/ocpp/inline.py), in this process, no WebSocket.
Prints CPU ms, wall ms and queries per message for the realistic mix, so a change to a handler
can be weighed on its own (OCPP_INGEST_GROUP_COMMIT=false: the one-message path, for comparison).

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


def session_for(station):
    from csms.ocpp.session import StationSession

    return StationSession(identity=station.identity, ocpp_version=station.ocpp_version,
                          connection_id="costs", station_pk=station.pk,
                          registration_status="Accepted")


def handle(costs, name, session, action, payload, answers=None):
    """One message through its registered handler (csms/ocpp/inline.py: the group commit and
    the session pool run it on this thread, so its queries are counted here)."""
    from csms.ocpp import inline

    def call():
        answer = inline.handle(session, action, payload)
        if answers is not None:
            answers.append(answer)

    measure(costs, name, call)


def session_201(costs, station, start, updates):
    transaction_id = f"tx-{uuid.uuid4().hex[:10]}"
    token = {"idToken": f"RFID{uuid.uuid4().hex[:8].upper()}", "type": "ISO14443"}
    session = session_for(station)
    status = {"timestamp": at(start, 0), "connectorStatus": "Occupied", "evseId": 1,
              "connectorId": 1}
    handle(costs, "StatusNotification (connector first seen)", session, "StatusNotification",
           status)
    handle(costs, "Authorize", session, "Authorize", {"idToken": token})
    base = {"transactionInfo": {"transactionId": transaction_id, "chargingState": "Charging"},
            "evse": {"id": 1, "connectorId": 1}}
    handle(costs, "TransactionEvent Started", session, "TransactionEvent", {
        **base, "eventType": "Started", "timestamp": at(start, 0), "triggerReason": "Authorized",
        "seqNo": 0, "idToken": token, "meterValue": meter(start, 0, 1000, "Transaction.Begin")})
    for seq_no in range(1, updates + 1):
        handle(costs, "TransactionEvent Updated", session, "TransactionEvent", {
            "transactionInfo": {"transactionId": transaction_id}, "eventType": "Updated",
            "timestamp": at(start, 10 * seq_no), "triggerReason": "MeterValuePeriodic",
            "seqNo": seq_no, "meterValue": meter(start, 10 * seq_no, 1000 + 20 * seq_no)})
    handle(costs, "TransactionEvent Ended", session, "TransactionEvent", {
        "transactionInfo": {"transactionId": transaction_id, "stoppedReason": "Local"},
        "eventType": "Ended", "timestamp": at(start, 10 * updates + 10),
        "triggerReason": "StopAuthorized", "seqNo": updates + 1, "idToken": token,
        "meterValue": meter(start, 10 * updates + 10, 1000 + 20 * updates, "Transaction.End")})
    handle(costs, "StatusNotification", session, "StatusNotification",
           {**status, "timestamp": at(start, 10 * updates + 20), "connectorStatus": "Available"})


def session_16(costs, station, start, updates):
    id_tag = f"TAG{uuid.uuid4().hex[:8].upper()}"
    session = session_for(station)
    handle(costs, "Authorize (1.6)", session, "Authorize", {"idTag": id_tag})
    answers = []
    handle(costs, "StartTransaction (1.6)", session, "StartTransaction", {
        "connectorId": 1, "idTag": id_tag, "meterStart": 1000, "timestamp": at(start, 0)},
        answers)
    transaction_id = answers[0]["transactionId"]
    for index in range(1, updates + 1):
        handle(costs, "MeterValues (1.6, in a transaction)", session, "MeterValues", {
            "connectorId": 1, "transactionId": transaction_id, "meterValue": [
                {"timestamp": at(start, 10 * index), "sampledValue": [
                    {"value": str(1000 + 20 * index), "measurand": "Energy.Active.Import.Register",
                     "unit": "Wh"},
                    {"value": str(7200 + index), "measurand": "Power.Active.Import", "unit": "W"}]}]})
    handle(costs, "StopTransaction (1.6)", session, "StopTransaction", {
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
        "no schema validation, no message log; group commit "
        f"{'on' if os.environ.get('OCPP_INGEST_GROUP_COMMIT', 'true') != 'false' else 'off'})",
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
    off = "-one-message-path" if os.environ.get("OCPP_INGEST_GROUP_COMMIT") == "false" else ""
    common.record(f"handler_costs-{options.backend}{off}", lines)
    if options.sql:
        for name, queries in LAST_QUERIES.items():
            print(f"\n{name}:")
            for sql in queries:
                print(f"  {sql[:160]}")


if __name__ == "__main__":
    main()
