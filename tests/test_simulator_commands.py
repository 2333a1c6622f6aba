"""The simulator answers the CSMS's commands the way a real station does, in both versions."""

import json

import pytest

from csms.models import MessageLogEntry
from stations.models import Station
from tests.helpers import eventually, send_command

VERSIONS = ["2.0.1", "1.6"]


@pytest.fixture
def online_station(simulated_station):
    """A booted simulated station that reboots quickly when reset."""
    return lambda identity, version, **profile: simulated_station(identity, version, reboot_seconds=0.2, **profile)


def send(api, identity, action, payload):
    answer = send_command(api, identity, action, payload)
    assert answer.status_code == 201, answer.text
    return answer.json()


def frames_in(identity, action):
    entries = MessageLogEntry.objects.filter(identity=identity, action=action, direction="in", message_type=2).order_by(
        "id"
    )
    return [json.loads(entry.frame)[3] for entry in entries]


@pytest.mark.parametrize("version", VERSIONS)
def test_reset_reboots_the_station_which_boots_again(api, simulator, online_station, identity, version):
    station = online_station(identity, version)
    answer = api.post(f"/stations/{identity}/reset/", json={"wait": 20}).json()
    assert answer["status"] == "accepted", answer
    eventually(
        lambda: simulator.call(lambda: station.boot_count) == 2 and simulator.call(lambda: station.online.is_set())
    )
    assert simulator.call(lambda: station.stats.counters["reboots"]) == 1
    if version == "2.0.1":
        assert Station.objects.get(identity=identity).boot_reason == "RemoteReset"


@pytest.mark.parametrize("version", VERSIONS)
def test_trigger_message_sends_what_was_asked(api, simulator, online_station, identity, version):
    online_station(identity, version)
    before = len(frames_in(identity, "Heartbeat"))
    answer = api.post(
        f"/stations/{identity}/trigger-message/", json={"requested_message": "Heartbeat", "wait": 20}
    ).json()
    assert answer["status"] == "accepted" and answer["response"] == {"status": "Accepted"}
    eventually(lambda: len(frames_in(identity, "Heartbeat")) == before + 1)


def test_get_and_set_variables_answer_per_item(api, online_station, identity):
    online_station(identity, "2.0.1")
    answer = send(
        api,
        identity,
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "attributeValue": "120",
                },
                {"component": {"name": "ChargingStation"}, "variable": {"name": "Model"}, "attributeValue": "Other"},
                {"component": {"name": "NoSuchController"}, "variable": {"name": "Enabled"}, "attributeValue": "true"},
            ]
        },
    )
    assert answer["status"] == "accepted", answer
    statuses = [item["attributeStatus"] for item in answer["response"]["setVariableResult"]]
    assert statuses == ["Accepted", "Rejected", "UnknownComponent"]
    answer = send(
        api,
        identity,
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}},
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "NoSuchVariable"}},
            ]
        },
    )
    results = answer["response"]["getVariableResult"]
    assert [r["attributeStatus"] for r in results] == ["Accepted", "Rejected", "UnknownVariable"]
    assert results[0]["attributeValue"] == "120"


def test_base_report_arrives_in_notify_report_parts(api, online_station, identity):
    online_station(identity, "2.0.1", evses=2)
    answer = send(api, identity, "GetBaseReport", {"requestId": 4711, "reportBase": "FullInventory"})
    assert answer["status"] == "accepted" and answer["response"] == {"status": "Accepted"}

    def parts():
        found = [p for p in frames_in(identity, "NotifyReport") if p["requestId"] == 4711]
        return found if found and not found[-1].get("tbc") else None

    parts = eventually(parts)
    assert [p["seqNo"] for p in parts] == list(range(len(parts))) and len(parts) >= 3
    assert all(p["tbc"] for p in parts[:-1])
    names = {(d["component"]["name"], d["variable"]["name"]) for p in parts for d in p["reportData"]}
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in names and ("EVSE", "Power") in names


def test_configuration_keys_of_a_16_station(api, online_station, identity):
    online_station(identity, "1.6")
    answer = send(api, identity, "GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})
    assert answer["response"] == {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
        "unknownKey": ["Nope"],
    }
    results = [
        send(api, identity, "ChangeConfiguration", {"key": key, "value": value})
        for key, value in [("MeterValueSampleInterval", "5"), ("NumberOfConnectors", "4"), ("NoSuchKey", "1")]
    ]
    assert [r["response"]["status"] for r in results] == ["Accepted", "Rejected", "NotSupported"]
    everything = send(api, identity, "GetConfiguration", {})["response"]["configurationKey"]
    assert {"key": "MeterValueSampleInterval", "readonly": False, "value": "5"} in everything
    assert "AuthorizationKey" not in {item["key"] for item in everything}


@pytest.mark.parametrize("version", VERSIONS)
def test_charging_profile_caps_the_power_drawn(api, simulator, online_station, identity, version):
    station = online_station(identity, version)
    # A schedule without startSchedule would run from a transaction's start; this one runs now.
    schedule = {
        "startSchedule": "2020-01-01T00:00:00Z",
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 3000}],
    }
    if version == "2.0.1":
        payload = {
            "evseId": 0,
            "chargingProfile": {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [{"id": 1, **schedule}],
            },
        }
    else:
        payload = {
            "connectorId": 0,
            "csChargingProfiles": {
                "chargingProfileId": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": schedule,
            },
        }
    answer = send(api, identity, "SetChargingProfile", payload)
    assert answer["status"] == "accepted", answer
    assert simulator.call(lambda: [evse.limit_w for evse in station.evses]) == [3000]


@pytest.mark.parametrize("version", VERSIONS)
def test_change_availability_is_announced(api, online_station, identity, version):
    online_station(identity, version)
    payload = {"operationalStatus": "Inoperative"} if version == "2.0.1" else {"connectorId": 0, "type": "Inoperative"}
    answer = send(api, identity, "ChangeAvailability", payload)
    assert answer["response"] == {"status": "Accepted"}
    key = "connectorStatus" if version == "2.0.1" else "status"
    eventually(lambda: [f[key] for f in frames_in(identity, "StatusNotification")][-1:] == ["Unavailable"])


def test_unsupported_command_is_refused_not_ignored(api, online_station, identity):
    online_station(identity, "2.0.1")
    answer = send(
        api,
        identity,
        "GetInstalledCertificateIds",
        {"certificateType": ["CSMSRootCertificate"]},
    )
    assert answer["status"] == "error" and answer["error_code"] == "NotSupported"
