"""Monitoring: a monitor set on a variable, an alert raised by it, seen, and cleared."""
import pytest

from devicemodel.models import Event, VariableAttribute, VariableMonitor
from tests.devicemodel_helpers import calls_of, report_item, seed_inventory
from tests.helpers import eventually

POWER = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}
TEMPERATURE = {"component": {"name": "TemperatureSensor", "instance": "Cabinet"},
               "variable": {"name": "Temperature"}}


@pytest.fixture
def station(connect_station, identity, api):
    station = connect_station(identity)
    seed_inventory(api, station, [
        report_item("EVSE", "Power", "0", "decimal", evse_id=1, unit="W", mutability="ReadOnly"),
        report_item("TemperatureSensor", "Temperature", "21", "decimal", unit="Celsius",
                    component_instance="Cabinet", mutability="ReadOnly"),
        report_item("ChargingStation", "Model", "X", "string", mutability="ReadOnly"),
        report_item("ChargingStation", "SerialNumber", "S", "string", mutability="ReadOnly",
                    supports_monitoring=False),
    ])
    next_id = iter(range(41, 100))
    station.answers["SetVariableMonitoring"] = lambda payload: {"setMonitoringResult": [
        {"id": next(next_id), "status": "Accepted", "type": item["type"],
         "severity": item["severity"], "component": item["component"],
         "variable": item["variable"]}
        for item in payload["setMonitoringData"]]}
    return station


def event(event_id, value, cleared=False, monitor_id=41, timestamp="2026-01-01T10:00:00Z",
          target=TEMPERATURE, trigger="Alerting"):
    data = {"eventId": event_id, "timestamp": timestamp, "trigger": trigger, "actualValue": value,
            "eventNotificationType": "CustomMonitor", "cleared": cleared, **target}
    if monitor_id is not None:
        data["variableMonitoringId"] = monitor_id
    return data


def notify(station, *events, seq_no=0):
    return station.call("NotifyEvent", {"generatedAt": "2026-01-01T10:00:01Z", "seqNo": seq_no,
                                        "eventData": list(events)})


def test_monitor_set_then_alert_raised_and_cleared(station, identity, api):
    response = api.post(f"/stations/{identity}/monitors/", json={"wait": 20, "monitors": [
        {**TEMPERATURE, "type": "UpperThreshold", "value": 60, "severity": 2},
        {**POWER, "type": "Periodic", "value": 900, "severity": 8},
    ]})
    assert response.status_code == 201, response.text
    assert [(i["status"], i["monitor_id"]) for i in response.json()["items"]] == [
        ("Accepted", 41), ("Accepted", 42)]
    sent = calls_of(station, "SetVariableMonitoring")[0][2]["setMonitoringData"]
    assert sent[0] == {**TEMPERATURE, "type": "UpperThreshold", "value": 60, "severity": 2}
    monitors = api.get(f"/stations/{identity}/monitors/").json()["results"]
    assert [(m["id"], m["type"], m["severity"], m["variable"]["name"]) for m in monitors] == [
        (41, "UpperThreshold", 2, "Temperature"), (42, "Periodic", 8, "Power")]

    # The cabinet overheats: an alert with the monitor's severity, active per station and network.
    assert notify(station, event(7, "65.5")) == {}
    alerts = api.get(f"/stations/{identity}/events/", params={"active": "true"}).json()["results"]
    assert [(a["event_id"], a["severity"], a["actual_value"], a["active"]) for a in alerts] == [
        (7, 2, "65.5", True)]
    assert alerts[0]["component"] == TEMPERATURE["component"]
    network = api.get("/events/", params={"active": "true", "severity_max": 3}).json()["results"]
    assert identity in {a["station"] for a in network}
    temperature = VariableAttribute.objects.get(variable__station__identity=identity,
                                                variable__name="Temperature", type="Actual")
    assert temperature.value == "65.5"

    # Back to normal: the alert is cleared, the clearing event is stored as such.
    notify(station, event(8, "55", cleared=True, timestamp="2026-01-01T10:05:00Z"), seq_no=1)
    assert api.get(f"/stations/{identity}/events/", params={"active": "true"}).json()["results"] == []
    cleared = api.get(f"/stations/{identity}/events/", params={"cleared": "true"}).json()["results"]
    assert {(e["event_id"], e["cleared"]) for e in cleared} == {(7, False), (8, True)}
    assert Event.objects.get(station__identity=identity, event_id=7).cleared_at is not None
    by_component = api.get(f"/stations/{identity}/events/",
                           params={"component": "TemperatureSensor"}).json()["results"]
    assert len(by_component) == 2
    assert api.get(f"/stations/{identity}/events/",
                   params={"component": "EVSE"}).json()["results"] == []


def test_a_clearing_event_that_arrives_first_still_clears_the_alert(station, identity, api):
    notify(station, event(11, "30", cleared=True, monitor_id=None,
                          timestamp="2026-01-01T11:00:00Z"))
    notify(station, event(10, "70", monitor_id=None, timestamp="2026-01-01T10:59:00Z"), seq_no=1)
    alert = Event.objects.get(station__identity=identity, event_id=10)
    assert alert.cleared_at is not None and not alert.is_active_alert
    # The older alert did not overwrite the newer value.
    assert VariableAttribute.objects.get(variable__station__identity=identity,
                                         variable__name="Temperature", type="Actual").value == "30"


def test_a_replayed_event_is_stored_once(station, identity, api):
    notify(station, event(20, "61"))
    notify(station, event(20, "61"))
    assert Event.objects.filter(station__identity=identity, event_id=20).count() == 1


def test_events_about_unknown_components_are_kept(station, identity, api):
    notify(station, event(30, "true", monitor_id=None, target={
        "component": {"name": "Fan", "evse": {"id": 2}}, "variable": {"name": "Problem"}},
        trigger="Delta"))
    stored = Event.objects.select_related("variable__component").get(
        station__identity=identity, event_id=30)
    assert (stored.variable.component.name, stored.variable.component.evse_id) == ("Fan", 2)
    assert stored.severity is None and not stored.is_active_alert


@pytest.mark.parametrize("monitor, reason", [
    ({"component": {"name": "ChargingStation"}, "variable": {"name": "Model"},
      "type": "UpperThreshold", "value": 1, "severity": 5}, "threshold monitors need a number"),
    ({"component": {"name": "ChargingStation"}, "variable": {"name": "SerialNumber"},
      "type": "Delta", "value": 1, "severity": 5}, "does not support monitoring"),
    ({**TEMPERATURE, "type": "UpperThreshold", "value": 60, "severity": 10}, "severity"),
    ({**TEMPERATURE, "type": "Sometimes", "value": 60, "severity": 1}, "type"),
])
def test_monitors_the_variable_cannot_take_are_refused(station, identity, api, monitor, reason):
    response = api.post(f"/stations/{identity}/monitors/", json={"monitors": [monitor]})
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert calls_of(station, "SetVariableMonitoring") == []


def test_clear_monitoring_removes_the_monitor(station, identity, api):
    api.post(f"/stations/{identity}/monitors/", json={"wait": 20, "monitors": [
        {**POWER, "type": "Delta", "value": 100, "severity": 7}]})
    station.answers["ClearVariableMonitoring"] = lambda payload: {"clearMonitoringResult": [
        {"id": monitor_id, "status": "Accepted"} for monitor_id in payload["id"]]}
    response = api.post(f"/stations/{identity}/monitors/clear", json={"ids": [41], "wait": 20})
    assert response.status_code == 201
    assert response.json()["items"][0]["status"] == "Accepted"
    assert not VariableMonitor.objects.filter(station__identity=identity).exists()


def test_monitoring_base_and_level(station, identity, api):
    station.answers["SetMonitoringBase"] = {"status": "Accepted"}
    station.answers["SetMonitoringLevel"] = {"status": "Accepted"}
    base = api.post(f"/stations/{identity}/monitors/base",
                    json={"monitoring_base": "FactoryDefault", "wait": 20})
    level = api.post(f"/stations/{identity}/monitors/level", json={"severity": 4, "wait": 20})
    assert (base.status_code, base.json()["status"]) == (201, "accepted")
    assert (level.status_code, level.json()["status"]) == (201, "accepted")
    assert calls_of(station, "SetMonitoringLevel")[0][2] == {"severity": 4}
    assert api.post(f"/stations/{identity}/monitors/level", json={"severity": 12}).status_code == 400


def test_a_monitoring_report_replaces_the_stored_monitors(station, identity, api):
    api.post(f"/stations/{identity}/monitors/", json={"wait": 20, "monitors": [
        {**POWER, "type": "Delta", "value": 100, "severity": 7}]})
    station.answers["GetMonitoringReport"] = {"status": "Accepted"}
    report = api.post(f"/stations/{identity}/reports/",
                      json={"kind": "MonitoringReport", "wait": 20}).json()
    assert calls_of(station, "GetMonitoringReport")[0][2] == {"requestId": report["request_id"]}
    station.call("NotifyMonitoringReport", {
        "requestId": report["request_id"], "seqNo": 0, "tbc": False,
        "generatedAt": "2026-01-01T00:00:00Z", "monitor": [{**TEMPERATURE, "variableMonitoring": [
            {"id": 3, "transaction": False, "value": 80, "type": "UpperThreshold", "severity": 1}]}],
    })
    eventually(lambda: api.get(report["url"]).json()["status"] == "done")
    assert list(VariableMonitor.objects.filter(station__identity=identity)
                .values_list("monitor_id", "severity")) == [(3, 1)]
