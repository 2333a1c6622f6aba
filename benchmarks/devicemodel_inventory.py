"""Storing a large inventory: time and queries to assemble and store a FullInventory of thousands
of variables sent in parts, first report and a re-report with changed values.
Run: .venv/bin/python benchmarks/devicemodel_inventory.py [variables] [parts]   (fresh SQLite file)
"""
import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RUN_DIR = tempfile.mkdtemp(prefix="devicemodel-bench-")
atexit.register(shutil.rmtree, RUN_DIR, True)
os.environ.setdefault("DATABASE_URL", f"sqlite:///{RUN_DIR}/bench.sqlite3")
os.environ.setdefault("PRODUCTION", "false")  # a lab run, not a deployment
os.environ.setdefault("CSMS_DATA_DIR", RUN_DIR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csms.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from devicemodel import actions  # noqa: E402
from devicemodel.models import Report, Variable, VariableAttribute, VariableValueChange  # noqa: E402
from stations.models import Station  # noqa: E402


def inventory(variables, generation):
    """`variables` report items over 10 EVSEs x 2 connectors and station-level controllers."""
    items = []
    for index in range(variables):
        tier = index % 3
        component = {"name": f"Controller{index % 40}"}
        if tier:
            component["evse"] = {"id": 1 + index % 10}
            if tier == 2:
                component["evse"]["connectorId"] = 1 + index % 2
        value = str(index if generation == 0 or index % 10 else index + generation)
        items.append({
            "component": component,
            "variable": {"name": f"Variable{index}", **({"instance": "Main"} if index % 7 == 0 else {})},
            "variableAttribute": [
                {"type": "Actual", "value": value, "mutability": "ReadWrite", "persistent": True},
                {"type": "MaxSet", "value": "1000", "mutability": "ReadOnly"},
            ],
            "variableCharacteristics": {"dataType": "integer", "unit": "A", "minLimit": 0,
                                        "maxLimit": 100000, "supportsMonitoring": True},
        })
    return items


def deliver(station, request_id, items, parts):
    """Send the parts last-first (out of order); the last one to arrive completes the report."""
    size = -(-len(items) // parts)
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    per_part = []
    with CaptureQueriesContext(connection) as total:
        started = time.perf_counter()
        for seq_no in reversed(range(len(chunks))):
            with CaptureQueriesContext(connection) as queries:
                part_started = time.perf_counter()
                actions.record_report_part(station.pk, request_id, seq_no,
                                           seq_no < len(chunks) - 1, "2026-01-01T00:00:00Z",
                                           chunks[seq_no])
            per_part.append((seq_no, len(queries), time.perf_counter() - part_started))
        elapsed = time.perf_counter() - started
    return elapsed, len(total), per_part


def main():
    variables = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    parts = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    call_command("migrate", verbosity=0)
    station = Station.objects.create(identity="BENCH-1", ocpp_version="2.0.1")
    print(f"{variables} variables ({2 * variables} attributes) in {parts} parts, "
          f"{connection.vendor}, {connection.settings_dict['NAME']}")
    for generation, label in ((0, "first report"), (1, "re-report, 10% values changed")):
        report = actions.create_report(station, Report.Kind.FULL_INVENTORY)
        elapsed, queries, per_part = deliver(station, report.request_id, inventory(variables, generation), parts)
        report.refresh_from_db()
        storing = per_part[-1]
        print(f"{label}: {elapsed:.2f} s, {queries} queries in all; "
              f"parts before the last: {max(q for _, q, _ in per_part[:-1])} queries each; "
              f"the completing part: {storing[1]} queries, {storing[2]:.2f} s "
              f"({report.status}, {report.items_stored} variables stored)")
    print(f"rows: {Variable.objects.count()} variables, {VariableAttribute.objects.count()} attributes, "
          f"{VariableValueChange.objects.count()} value changes")


if __name__ == "__main__":
    main()
