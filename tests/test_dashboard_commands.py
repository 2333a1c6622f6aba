"""Commands sent from the station page: Reset, TriggerMessage and any action with a JSON payload."""
import json

from csms.models import Command

# The dashboard fixtures, shared by name.


def send(dashboard, identity, form, data):
    return dashboard.submit(f"/stations/{identity}/{form}/", data, form_page=f"/stations/{identity}/")


def test_reset_16_station_hard(dashboard, connect_station, identity):
    station = connect_station(identity, "1.6")
    answer = send(dashboard, identity, "reset", {"type": "Hard"})
    assert answer.status_code == 200 and answer.url.path == f"/stations/{identity}/"
    assert "Reset #" in answer.text and "accepted (the station answered Accepted)" in answer.text
    assert station.next_call()[1:] == ("Reset", {"type": "Hard"})
    command = Command.objects.filter(identity=identity).get()
    assert (command.status, command.source) == ("accepted", "dashboard:operator")


def test_reset_one_evse_of_a_201_station(dashboard, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    send(dashboard, identity, "reset", {"type": "Immediate", "evse_id": "2"})
    assert station.next_call()[1:] == ("Reset", {"type": "Immediate", "evseId": 2})


def test_reset_type_of_the_other_version_is_refused(dashboard, connect_station, identity):
    connect_station(identity, "2.0.1")
    answer = send(dashboard, identity, "reset", {"type": "Hard", "evse_id": "x"})
    assert answer.status_code == 400
    assert "Select a valid choice" in answer.text and "Enter a whole number" in answer.text
    assert not Command.objects.filter(identity=identity).exists()


def test_trigger_status_of_one_connector(dashboard, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    send(dashboard, identity, "trigger-message",
         {"requested_message": "StatusNotification", "evse_id": "1", "connector_id": "1"})
    assert station.next_call()[1:] == (
        "TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}})


def test_any_action_with_schema_errors_sends_nothing(dashboard, connect_station, identity):
    connect_station(identity, "2.0.1")
    answer = send(dashboard, identity, "send",
                  {"action": "SetVariables", "payload": json.dumps({"setVariableData": []})})
    assert answer.status_code == 400
    assert "setVariableData: [] has less than 1 item" in answer.text
    for payload, message in [("{oops", "Not valid JSON"), ("[1]", "must be a JSON object")]:
        answer = send(dashboard, identity, "send", {"action": "ClearCache", "payload": payload})
        assert answer.status_code == 400 and message in answer.text
    answer = send(dashboard, identity, "send", {"action": "Heartbeat", "payload": "{}"})
    assert answer.status_code == 400 and "Select a valid choice" in answer.text
    assert not Command.objects.filter(identity=identity).exists()


def test_any_action_is_sent_and_its_answer_shown(dashboard, connect_station, identity):
    station = connect_station(identity, "1.6")
    station.answers["GetConfiguration"] = {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"}]}
    answer = send(dashboard, identity, "send",
                  {"action": "GetConfiguration", "payload": '{"key": ["HeartbeatInterval"]}'})
    assert "GetConfiguration #" in answer.text and ": accepted" in answer.text
    rows = dashboard.get(f"/stations/{identity}/commands/").text
    assert "GetConfiguration" in rows and "HeartbeatInterval" in rows and "dashboard:operator" in rows


def test_commands_to_a_never_connected_station_are_refused(dashboard, identity):
    dashboard.submit("/register-station/", {"identity": identity, "registration_policy": "Accepted"})
    page = dashboard.get(f"/stations/{identity}/").text
    assert "its OCPP version is unknown" in page
    answer = send(dashboard, identity, "reset", {"type": "Immediate"})
    assert answer.status_code == 409
    assert "has never connected" in answer.text


def test_offline_station_command_ends_offline(dashboard, connect_station, identity):
    connect_station(identity, "2.0.1").close()
    answer = send(dashboard, identity, "reset", {"type": "Immediate"})
    assert "Reset #" in answer.text and ": offline (Station is not connected)" in answer.text


def test_log_and_commands_fragments(dashboard, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    station.call("Heartbeat", {})
    from tests.helpers import eventually

    rows = eventually(lambda: "Heartbeat" in (text := dashboard.get(
        f"/stations/{identity}/log/", params={"action": "heartbeat"}).text) and text)
    assert "BootNotification" not in rows
    newest = max(int(part.split('"')[0]) for part in rows.split('data-id="')[1:])
    assert "No frames logged" in dashboard.get(f"/stations/{identity}/log/",
                                               params={"after": newest}).text
    assert dashboard.get(f"/stations/{identity}/log/", params={"after": "x"}).status_code == 400
    assert "No commands sent yet" in dashboard.get(f"/stations/{identity}/commands/").text


def test_action_schema(dashboard):
    schema = dashboard.get("/schemas/1.6/ChangeConfiguration/").json()
    assert schema["required"] == ["key", "value"]
    assert dashboard.get("/schemas/2.0.1/Heartbeat/").status_code == 404
    assert dashboard.get("/schemas/9.9/Reset/").status_code == 404
