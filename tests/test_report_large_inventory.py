"""A large inventory (thousands of variables) is stored whole, in a bounded number of queries."""
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devicemodel import actions
from devicemodel.models import Report, Variable, VariableValueChange
from stations.models import Station
from tests.devicemodel_helpers import notify_report, report_item, request_report, split
from tests.helpers import eventually


def big_inventory(count, changed_every=0):
    items = []
    for index in range(count):
        value = str(index + 1 if changed_every and index % changed_every == 0 else index)
        items.append(report_item(
            f"Controller{index % 25}", f"Variable{index}", value,
            evse_id=(index % 4) or None, connector_id=1 if index % 8 == 4 else None,
            unit="A", max_limit=100000,
            extra_attributes=[{"type": "MaxSet", "value": "500", "mutability": "ReadOnly"}]))
    return items


def test_thousands_of_variables_over_the_wire(connect_station, identity, api):
    station = connect_station(identity)
    report = request_report(api, station)
    parts = split(big_inventory(3000), 6)
    for seq_no in [5, 1, 3, 0, 4, 2]:
        notify_report(station, report["request_id"], seq_no, parts[seq_no], tbc=seq_no < 5)
    # How long it takes is a figure of benchmarks/devicemodel_inventory.py, not asserted here.
    eventually(lambda: Report.objects.get(pk=report["id"]).status == "done", 60)
    assert Variable.objects.filter(station__identity=identity).count() == 3000
    tree = api.get(f"/stations/{identity}/components/", params={"component": "Controller7"}).json()
    assert tree["variables"] == 120


def store(station, request_id, items, parts=4):
    """Deliver in parts through the action; (queries of each early part, of the completing one)."""
    chunks = split(items, parts)
    early = []
    for seq_no in range(len(chunks) - 1):
        with CaptureQueriesContext(connection) as queries:
            actions.record_report_part(station.pk, request_id, seq_no, True,
                                       "2026-01-01T00:00:00Z", chunks[seq_no])
        early.append(len(queries))
    with CaptureQueriesContext(connection) as queries:
        actions.record_report_part(station.pk, request_id, len(chunks) - 1, False,
                                   "2026-01-01T00:00:00Z", chunks[-1])
    return early, len(queries)


@pytest.mark.parametrize("count", [400, 4000])
def test_query_budget_does_not_grow_per_variable(count):
    station = Station.objects.create(identity=f"BULK-{uuid.uuid4().hex[:8]}", ocpp_version="2.0.1")
    first = actions.create_report(station, Report.Kind.FULL_INVENTORY)
    early, completing = store(station, first.request_id, big_inventory(count))
    # Each part is stored as it comes, in bulk: at least 25 variables (50 attributes) per query.
    assert max(early) <= 25 + (count / 4) / 25
    assert completing <= 25 + count / 25
    again = actions.create_report(station, Report.Kind.FULL_INVENTORY)
    early, completing = store(station, again.request_id, big_inventory(count, changed_every=10))
    assert completing <= 25 + count / 25
    assert VariableValueChange.objects.filter(
        attribute__variable__station=station).count() == count // 10
