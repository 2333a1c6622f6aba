"""Building blocks for device-model tests: report items, delivering a report in parts, and
seeding a station's inventory through a real GetBaseReport exchange."""
from devicemodel.models import Report
from tests.helpers import eventually


def component(name, evse_id=None, connector_id=None, instance=None):
    data = {"name": name}
    if instance:
        data["instance"] = instance
    if evse_id is not None:
        data["evse"] = {"id": evse_id}
        if connector_id is not None:
            data["evse"]["connectorId"] = connector_id
    return data


def report_item(component_name, variable_name, value=None, data_type="integer", *, evse_id=None,
                connector_id=None, mutability="ReadWrite", unit=None, min_limit=None,
                max_limit=None, values_list=None, supports_monitoring=True, variable_instance=None,
                component_instance=None, extra_attributes=()):
    attribute = {"type": "Actual", "mutability": mutability}
    if value is not None:
        attribute["value"] = value
    characteristics = {"dataType": data_type, "supportsMonitoring": supports_monitoring}
    for key, given in (("unit", unit), ("minLimit", min_limit), ("maxLimit", max_limit),
                       ("valuesList", values_list)):
        if given is not None:
            characteristics[key] = given
    variable = {"name": variable_name}
    if variable_instance:
        variable["instance"] = variable_instance
    return {
        "component": component(component_name, evse_id, connector_id, component_instance),
        "variable": variable,
        "variableAttribute": [attribute, *extra_attributes],
        "variableCharacteristics": characteristics,
    }


def notify_report(station, request_id, seq_no, items, tbc):
    return station.call("NotifyReport", {
        "requestId": request_id, "generatedAt": "2026-01-01T00:00:00Z", "seqNo": seq_no,
        "tbc": tbc, "reportData": items,
    })


def split(items, parts):
    size = -(-len(items) // parts)
    return [items[i:i + size] for i in range(0, len(items), size)]


def request_report(api, station, kind="FullInventory", **body):
    """Ask for a report over the API; the station answers Accepted. Returns the report JSON."""
    station.answers.setdefault("GetBaseReport", {"status": "Accepted"})
    station.answers.setdefault("GetReport", {"status": "Accepted"})
    station.answers.setdefault("GetMonitoringReport", {"status": "Accepted"})
    response = api.post(f"/stations/{station.identity}/reports/",
                        json={"kind": kind, "wait": 20, **body})
    assert response.status_code == 201, response.text
    return response.json()


def seed_inventory(api, station, items, parts=1):
    """Give the CSMS the station's inventory the way a station does: FullInventory in parts."""
    report = request_report(api, station)
    chunks = split(items, parts)
    for seq_no, chunk in enumerate(chunks):
        notify_report(station, report["request_id"], seq_no, chunk, seq_no < len(chunks) - 1)
    eventually(lambda: Report.objects.get(pk=report["id"]).status == Report.Status.DONE)
    return report


def calls_of(station, action):
    """Every call of `action` the CSMS has sent the station so far (drains the queue)."""
    calls = []
    while not station.received_calls.empty():
        calls.append(station.received_calls.get_nowait())
    return [call for call in calls if call[1] == action]
