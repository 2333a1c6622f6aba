"""Bytes per stored meter value and per message-log row on PostgreSQL (daily partitions), heap and
indexes apart: rows of the realistic shape written through the real insert paths into a fresh
database, then measured over every partition.

Usage: .venv/bin/python benchmarks/storage.py [--events 25000] [--stations 100]
Each 2.0.1 TransactionEvent (Updated) carries 7 readings (energy, power, 3 currents, voltage,
SoC) and logs 2 frames (the CALL in, the CALLRESULT out), as the load generator sends them.
"""
import argparse
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

PHASES = ("L1", "L2", "L3")
GIB = 1024 ** 3


def sampled_values(rng, register_wh, power_w, soc):
    """The load generator's 2.0.1 readings of one periodic sample."""
    voltage = 230 + rng.uniform(-4, 4)
    current = power_w / (3 * voltage)
    rows = [("Energy.Active.Import.Register", None, int(register_wh), "Wh", "Outlet"),
            ("Power.Active.Import", None, round(power_w, 1), "W", "Outlet")]
    rows += [("Current.Import", phase, round(current, 2), "A", "Outlet") for phase in PHASES]
    rows += [("Voltage", "L1-N", round(voltage, 1), "V", "Outlet"),
             ("SoC", None, round(soc, 1), "Percent", "EV")]
    values = []
    for measurand, phase, value, unit, location in rows:
        sample = {"value": value, "context": "Sample.Periodic", "measurand": measurand,
                  "location": location, "unitOfMeasure": {"unit": unit}}
        if phase:
            sample["phase"] = phase
        values.append(sample)
    return values


def sessions(stations, events_per_station, start):
    """(station index, seqNo, TransactionEvent payload), one periodic Updated a minute each."""
    rng = random.Random(7)
    for seq_no in range(1, events_per_station + 1):
        moment = start + timedelta(seconds=60 * seq_no)
        stamp = moment.isoformat().replace("+00:00", "Z")
        for index, station in enumerate(stations):
            register = 1000 + 180 * seq_no + index
            payload = {
                "eventType": "Updated", "timestamp": stamp, "triggerReason": "MeterValuePeriodic",
                "seqNo": seq_no, "transactionInfo": {"transactionId": station["transaction_id"],
                                                     "chargingState": "Charging"},
                "evse": {"id": 1, "connectorId": 1},
                "meterValue": [{"timestamp": stamp, "sampledValue": sampled_values(
                    rng, register, 11000 + rng.uniform(-300, 300), min(99, 20 + seq_no / 10))}],
            }
            yield station, payload


def write(options):
    from django.db import connection
    from django.db import transaction as db_transaction

    from csms.ocpp import messagelog
    from stations.models import Station
    from transactions import ingest
    from transactions.actions.meter_values import sampled_values as flatten
    from transactions.models import Transaction

    stations = []
    for index in range(options.stations):
        station = Station.objects.create(identity=f"STORE-{index:05d}", ocpp_version="2.0.1")
        transaction = Transaction.objects.create(
            station=station, transaction_id=str(uuid.uuid4()), ocpp_version="2.0.1", evse_id=1,
            connector_id=1)
        stations.append({"pk": station.pk, "identity": station.identity,
                         "transaction_id": transaction.transaction_id, "row": transaction})
    per_station = max(1, options.events // options.stations)
    # The sessions end now: their readings fall in today's partition (and yesterday's).
    start = datetime.now(UTC) - timedelta(seconds=60 * (per_station + 1))
    begun = time.monotonic()
    batch = []
    for count, (station, payload) in enumerate(sessions(stations, per_station, start), 1):
        batch.append((station, payload))
        if len(batch) == 500 or count == per_station * len(stations):
            # As the group commit does: many stations' events and readings in one transaction,
            # one INSERT for the events and one for the readings.
            with db_transaction.atomic():
                writes = [(ingest.Reading(SimpleNamespace(station_pk=station["pk"]),
                                          flatten(payload["meterValue"], "2.0.1"),
                                          transaction_id=station["transaction_id"], event=payload,
                                          evse_id=1, connector_id=1), station["row"], {})
                          for station, payload in batch]
                event_ids = ingest._insert_events(writes)
                ingest._insert_readings([(job, row, event_id) for (job, row, _), event_id
                                         in zip(writes, event_ids)])
                for station, payload in batch:
                    answer = {}
                    message_id = str(uuid.uuid4())
                    messagelog.record(station["identity"], "in",
                                      json.dumps([2, message_id, "TransactionEvent", payload]),
                                      message_type=2, message_id=message_id,
                                      action="TransactionEvent", connection_id=str(uuid.uuid4()))
                    messagelog.record(station["identity"], "out", json.dumps([3, message_id, answer]),
                                      message_type=3, message_id=message_id,
                                      action="TransactionEvent", outcome="ok",
                                      duration_ms=round(random.uniform(2, 40), 2),
                                      connection_id=str(uuid.uuid4()))
            messagelog.flush()
            batch = []
    elapsed = time.monotonic() - begun
    with connection.cursor() as cursor:
        for table in ("transactions_metervalue", "csms_messagelogentry"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return elapsed


def measure(table):
    """Rows, partitions, heap (with TOAST) and index bytes summed over the table's partitions,
    and each index's bytes over all partitions."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        rows = cursor.fetchone()[0]
        cursor.execute("SELECT count(*), sum(pg_table_size(relid)), sum(pg_indexes_size(relid)) "
                       "FROM pg_partition_tree(%s) WHERE isleaf", [table])
        partitions, heap, indexes = cursor.fetchone()
        cursor.execute(
            "SELECT i.relname, (SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree(i.oid)) "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass ORDER BY 2 DESC", [table])
        per_index = cursor.fetchall()
    return rows, partitions, int(heap), int(indexes), per_index


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=25000, help="TransactionEvents written")
    parser.add_argument("--stations", type=int, default=100)
    options = parser.parse_args()
    backend = common.Backend("services")
    os.environ.update(backend.environ())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csms.settings")
    import django

    django.setup()
    elapsed = write(options)
    lines = [f"storage: bytes per row on PostgreSQL (daily partitions), {common.now()}",
             f"machine: {common.machine()}",
             (f"{options.events} TransactionEvents (7 readings, 2 logged frames each) from "
              f"{options.stations} stations written in {elapsed:.1f} s through the ingest path's "
              f"INSERTs and the message log's batch writer"), ""]
    for table, what in (("transactions_metervalue", "meter value"),
                        ("csms_messagelogentry", "message-log row")):
        rows, partitions, heap, indexes, per_index = measure(table)
        lines.append(f"{what}: {rows} rows in {partitions} partitions: "
                     f"{(heap + indexes) / rows:.0f} B/row = heap {heap / rows:.0f} + "
                     f"indexes {indexes / rows:.0f}; {(heap + indexes) / rows * 1e9 / GIB:.0f} GiB "
                     f"per billion rows")
        lines += [f"    index {name}: {size / rows:.0f} B/row" for name, size in per_index]
    common.record("storage", lines)


if __name__ == "__main__":
    main()
