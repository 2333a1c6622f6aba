"""Reports: a FullInventory in parts, out of order, assembled into the station's tree."""
from datetime import timedelta

import pytest
from django.utils import timezone

from devicemodel import actions
from devicemodel.models import Report, Variable
from tests.devicemodel_helpers import calls_of, notify_report, report_item, request_report
from tests.helpers import eventually
from tests.station import CallFailed


def inventory():
    return [
        report_item("OCPPCommCtrlr", "HeartbeatInterval", "300", unit="s", min_limit=1,
                    max_limit=86400),
        report_item("DeviceDataCtrlr", "ItemsPerMessage", "10", mutability="ReadOnly",
                    variable_instance="GetVariables"),
        report_item("EVSE", "Power", "22000", "decimal", evse_id=1, unit="W", max_limit=22000,
                    mutability="ReadOnly"),
        report_item("EVSE", "AvailabilityState", "Available", "OptionList", evse_id=1,
                    values_list="Available,Occupied,Reserved,Unavailable,Faulted",
                    mutability="ReadOnly"),
        report_item("Connector", "ConnectorType", "cType2", "string", evse_id=1, connector_id=1,
                    mutability="ReadOnly"),
        report_item("EVSE", "Power", "11000", "decimal", evse_id=2, unit="W", mutability="ReadOnly"),
        report_item("Connector", "ConnectorType", "cCCS2", "string", evse_id=2, connector_id=1,
                    mutability="ReadOnly"),
        report_item("TokenReader", "Enabled", "true", "boolean", component_instance="Front"),
    ]


def test_full_inventory_in_out_of_order_parts_builds_the_tree(connect_station, identity, api):
    station = connect_station(identity)
    report = request_report(api, station)
    sent = calls_of(station, "GetBaseReport")
    assert sent[0][2] == {"requestId": report["request_id"], "reportBase": "FullInventory"}
    assert report["status"] == "accepted"
    items = inventory()
    parts = [items[0:3], items[3:6], items[6:8]]

    # The last part first, then the first: what has arrived is stored while part 1 is missing.
    notify_report(station, report["request_id"], 2, parts[2], tbc=False)
    notify_report(station, report["request_id"], 0, parts[0], tbc=True)
    progress = api.get(f"/stations/{identity}/reports/{report['request_id']}/").json()
    assert (progress["status"], progress["parts_received"], progress["parts_expected"]) == (
        "receiving", 2, 3)
    assert progress["progress"] == "2/3 parts"
    assert progress["items_stored"] == 5
    assert Variable.objects.filter(station__identity=identity).count() == 5

    notify_report(station, report["request_id"], 1, parts[1], tbc=True)
    done = api.get(f"/stations/{identity}/reports/{report['request_id']}/").json()
    assert (done["status"], done["parts_received"], done["items_stored"]) == ("done", 3, 8)

    tree = api.get(f"/stations/{identity}/components/").json()
    assert tree["variables"] == 8
    by_address = {
        (c["name"], c.get("instance"), (c.get("evse") or {}).get("id"),
         (c.get("evse") or {}).get("connectorId")): c
        for c in tree["components"]
    }
    assert set(by_address) == {
        ("OCPPCommCtrlr", None, None, None), ("DeviceDataCtrlr", None, None, None),
        ("TokenReader", "Front", None, None), ("EVSE", None, 1, None), ("EVSE", None, 2, None),
        ("Connector", None, 1, 1), ("Connector", None, 2, 1),
    }
    heartbeat = by_address[("OCPPCommCtrlr", None, None, None)]["variables"][0]
    assert heartbeat["name"] == "HeartbeatInterval"
    assert heartbeat["attributes"][0]["value"] == "300"
    assert heartbeat["attributes"][0]["mutability"] == "ReadWrite"
    assert heartbeat["characteristics"] == {
        "unit": "s", "dataType": "integer", "minLimit": 1.0, "maxLimit": 86400.0,
        "valuesList": "", "supportsMonitoring": True}
    items_per_message = by_address[("DeviceDataCtrlr", None, None, None)]["variables"][0]
    assert (items_per_message["name"], items_per_message["instance"]) == (
        "ItemsPerMessage", "GetVariables")
    assert by_address[("Connector", None, 2, 1)]["variables"][0]["attributes"][0]["value"] == "cCCS2"

    # Filters narrow the tree.
    evse_tier = api.get(f"/stations/{identity}/components/", params={"tier": "connector"}).json()
    assert {c["evse"]["id"] for c in evse_tier["components"]} == {1, 2}
    assert all(c["name"] == "Connector" for c in evse_tier["components"])
    found = api.get(f"/stations/{identity}/components/", params={"search": "heartbeat"}).json()
    assert [c["name"] for c in found["components"]] == ["OCPPCommCtrlr"]


def test_a_replayed_part_counts_once(connect_station, identity, api):
    station = connect_station(identity)
    report = request_report(api, station)
    items = inventory()
    assert notify_report(station, report["request_id"], 0, items[:4], tbc=True) == {}
    assert notify_report(station, report["request_id"], 0, items[:4], tbc=True) == {}
    row = Report.objects.get(pk=report["id"])
    assert (row.parts_received, row.status) == (1, "receiving")
    notify_report(station, report["request_id"], 1, items[4:], tbc=False)
    notify_report(station, report["request_id"], 1, items[4:], tbc=False)
    row.refresh_from_db()
    assert (row.parts_received, row.status, row.items_stored) == (2, "done", 8)
    assert Variable.objects.filter(station__identity=identity).count() == 8


def test_get_report_sends_the_filters(connect_station, identity, api):
    station = connect_station(identity)
    report = request_report(
        api, station, "CustomReport", component_criteria=["Problem", "Enabled"],
        component_variables=[{"component": {"name": "EVSE", "evse": {"id": 1}},
                               "variable": {"name": "Power"}}])
    sent = calls_of(station, "GetReport")[0][2]
    assert sent == {"requestId": report["request_id"], "componentCriteria": ["Problem", "Enabled"],
                    "componentVariable": [{"component": {"name": "EVSE", "evse": {"id": 1}},
                                           "variable": {"name": "Power"}}]}
    notify_report(station, report["request_id"], 0, inventory()[2:3], tbc=False)
    eventually(lambda: Report.objects.get(pk=report["id"]).status == "done")


def test_a_refused_report_is_shown_refused(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["GetBaseReport"] = {"status": "NotSupported"}
    response = api.post(f"/stations/{identity}/reports/",
                        json={"kind": "SummaryInventory", "wait": 20})
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["status_detail"]) == ("rejected", "NotSupported")
    listed = api.get(f"/stations/{identity}/reports/").json()["results"]
    assert [r["status"] for r in listed] == ["rejected"]


def test_bad_report_requests_get_a_message(connect_station, identity, api):
    connect_station(identity)
    response = api.post(f"/stations/{identity}/reports/", json={"kind": "Everything"})
    assert response.status_code == 400 and "kind" in response.json()["detail"]
    assert api.post("/stations/NO-SUCH-STATION/reports/",
                    json={"kind": "FullInventory"}).status_code == 404


def test_a_notify_report_that_breaks_its_schema_is_refused(connect_station, identity):
    station = connect_station(identity)
    with pytest.raises(CallFailed) as refused:
        station.call("NotifyReport", {"requestId": 1, "generatedAt": "2026-01-01T00:00:00Z",
                                      "seqNo": 0, "reportData": [{"component": {"name": "X"}}]})
    assert refused.value.code == "OccurrenceConstraintViolation"


def test_a_report_whose_parts_stop_coming_times_out(connect_station, identity, api):
    station = connect_station(identity)
    report = request_report(api, station)
    notify_report(station, report["request_id"], 0, inventory()[:2], tbc=True)
    long_ago = timezone.now() - timedelta(hours=1)
    Report.objects.filter(pk=report["id"]).update(last_part_at=long_ago)
    actions.expire_reports()
    shown = api.get(f"/stations/{identity}/reports/{report['request_id']}/").json()
    assert (shown["status"], shown["progress"]) == ("timed_out", "1/? parts")
    # A late part still counts and completes it.
    notify_report(station, report["request_id"], 1, inventory()[2:], tbc=False)
    assert api.get(shown["url"]).json()["status"] == "done"
