"""A01: rotating a station's Basic-auth password over real WebSockets. The stored hash changes
only when the station accepts; the old password stays valid until the station logs in with the
new one, then only the new one is."""
import re

import pytest
from websockets.exceptions import InvalidStatus

from csms.models import Command
from stations.models import PasswordRotation, Station
from tests.helpers import eventually
from tests.station import StationClient

OLD_PASSWORD = "old-password-0123456789"


def login_status(csms, identity, version, password):
    try:
        StationClient(csms.ws_url, identity, version, password).close()
        return 101
    except InvalidStatus as refused:
        return refused.response.status_code


def rotation_call(station, version):
    """The call that carries the new password, and that password."""
    message_id, action, payload = station.next_call()
    if version == "2.0.1":
        assert action == "SetVariables"
        (item,) = payload["setVariableData"]
        assert (item["component"]["name"], item["variable"]["name"]) == ("SecurityCtrlr", "BasicAuthPassword")
        return message_id, item["attributeValue"]
    assert (action, payload["key"]) == ("ChangeConfiguration", "AuthorizationKey")
    # The 1.6 security white paper: AuthorizationKey as hexadecimal digits.
    assert re.fullmatch(r"[0-9a-f]{40}", payload["value"])
    return message_id, payload["value"]


def accepted(version):
    if version == "2.0.1":
        return {"setVariableResult": [{"attributeStatus": "Accepted", "attributeType": "Actual",
                                       "component": {"name": "SecurityCtrlr"},
                                       "variable": {"name": "BasicAuthPassword"}}]}
    return {"status": "Accepted"}


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_rotation_accepted_keeps_the_old_password_until_the_new_one_is_used(
        api, csms, connect_station, identity, version):
    assert api.post("/stations/", json={"identity": identity, "password": OLD_PASSWORD}).status_code == 201
    old_hash = Station.objects.get(identity=identity).password_hash
    station = connect_station(identity, version, password=OLD_PASSWORD)
    response = api.post("/password-rotations/", json={"station": identity})
    assert response.status_code == 202, response.text
    rotation_id = response.json()["id"]

    message_id, new_password = rotation_call(station, version)
    assert 16 <= len(new_password) <= 40
    # Not accepted yet: nothing changed.
    assert Station.objects.get(identity=identity).password_hash == old_hash
    station.reply(message_id, accepted(version))
    eventually(lambda: PasswordRotation.objects.get(pk=rotation_id).state == "Accepted")
    assert Station.objects.get(identity=identity).password_hash != old_hash
    # The password left the stored command once it was answered.
    command = Command.objects.get(pk=response.json()["command"])
    assert new_password not in str(command.payload)
    assert api.get(f"/password-rotations/{rotation_id}/").json()["state"] == "Accepted"

    station.close()
    # Until the station logs in with the new password, the old one still works...
    assert login_status(csms, identity, version, OLD_PASSWORD) == 101
    # ...the first login with the new one ends that...
    assert login_status(csms, identity, version, new_password) == 101
    assert PasswordRotation.objects.get(pk=rotation_id).state == "Completed"
    # ...and from then on only the new one is valid.
    assert login_status(csms, identity, version, OLD_PASSWORD) == 401
    assert login_status(csms, identity, version, new_password) == 101


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_a_rejected_rotation_changes_nothing(api, csms, connect_station, identity, version):
    api.post("/stations/", json={"identity": identity, "password": OLD_PASSWORD})
    old_hash = Station.objects.get(identity=identity).password_hash
    station = connect_station(identity, version, password=OLD_PASSWORD)
    rotation_id = api.post("/password-rotations/", json={"station": identity}).json()["id"]
    message_id, new_password = rotation_call(station, version)
    if version == "2.0.1":
        answer = accepted(version)
        answer["setVariableResult"][0]["attributeStatus"] = "Rejected"
    else:
        answer = {"status": "Rejected"}
    station.reply(message_id, answer)
    eventually(lambda: PasswordRotation.objects.get(pk=rotation_id).state == "Rejected")
    assert Station.objects.get(identity=identity).password_hash == old_hash
    station.close()
    assert login_status(csms, identity, version, new_password) == 401
    assert login_status(csms, identity, version, OLD_PASSWORD) == 101


def test_an_offline_station_fails_at_once_and_a_never_connected_one_is_409(api, csms, connect_station, identity):
    assert api.post("/stations/", json={"identity": identity, "password": OLD_PASSWORD}).status_code == 201
    never = api.post("/password-rotations/", json={"station": identity})
    assert never.status_code == 409
    connect_station(identity, "2.0.1", password=OLD_PASSWORD).close()
    eventually(lambda: not Station.objects.get(identity=identity).online)
    offline = api.post("/password-rotations/", json={"station": identity, "wait": 5})
    assert offline.status_code == 201 and offline.json()["state"] == "Failed"
    assert login_status(csms, identity, "2.0.1", OLD_PASSWORD) == 101
    assert api.post("/password-rotations/", json={"station": "no-such-station"}).status_code == 400


def test_the_simulator_takes_a_new_password_and_reconnects_with_it(api, csms, simulated_station, simulator, identity):
    api.post("/stations/", json={"identity": identity, "password": OLD_PASSWORD})
    station = simulated_station(identity, "2.0.1", password=OLD_PASSWORD)
    response = api.post("/password-rotations/", json={"station": identity, "wait": 20})
    assert response.status_code == 201 and response.json()["state"] == "Accepted", response.text
    assert simulator.call(lambda: station.password) != OLD_PASSWORD


def test_the_message_log_never_holds_the_new_password(api, connect_station, identity):
    from csms.models import MessageLogEntry

    api.post("/stations/", json={"identity": identity, "password": OLD_PASSWORD})
    station = connect_station(identity, "1.6", password=OLD_PASSWORD)
    station.answers["ChangeConfiguration"] = {"status": "Accepted"}
    rotation = api.post("/password-rotations/", json={"station": identity, "wait": 20}).json()
    assert rotation["state"] == "Accepted"
    sent = eventually(lambda: MessageLogEntry.objects.filter(
        identity=identity, action="ChangeConfiguration", direction="out").first())
    assert '"AuthorizationKey"' in sent.frame and '"********"' in sent.frame
    assert not re.search(r"[0-9a-f]{40}", sent.frame)
