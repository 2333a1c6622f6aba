"""A05: raising a station's security profile over real WebSockets, against runcsms serving its own
TLS port beside its plain one. The stored profile changes only when the station comes back over
TLS; a station that never does keeps its old profile and its plain-ws access."""
import httpx
import pytest
from django.conf import settings

from stations.models import SecurityProfileUpgrade, Station
from tests.helpers import eventually
from tests.station import StationClient
from tests.test_security_profiles import pki, tls_server  # noqa: F401  (module fixtures)
from tests.tls_helpers import client_context, open_station, upgrade_status

PASSWORD = "a-good-station-password-1"


@pytest.fixture
def tls_api(tls_server, operator):  # noqa: F811
    # The server holding the station's socket answers the API (one process on the embedded backend).
    with httpx.Client(base_url=f"{tls_server.base_url}/api/v1",
                      headers={"Authorization": f"Token {operator['token']}"},
                      timeout=30) as client:
        yield client


def profile_1_station(tls_server, identity, version):  # noqa: F811
    station = Station(identity=identity, security_profile=1)
    station.set_password(PASSWORD)
    station.save()
    client = StationClient(tls_server.ws_url, identity, version, PASSWORD, auto_answer=False)
    assert client.boot()["status"] == "Accepted"
    return client


def state_of(upgrade_id):
    return SecurityProfileUpgrade.objects.get(pk=upgrade_id).state


def accept_the_2_0_1_sequence(client, tls_port, slot=2):
    message_id, action, payload = client.next_call()
    assert action == "SetNetworkProfile"
    assert payload == {"configurationSlot": slot, "connectionData": {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON",
        "ocppCsmsUrl": f"wss://127.0.0.1:{tls_port}/ocpp",
        "messageTimeout": max(1, int(settings.OCPP_CALL_TIMEOUT)),
        "securityProfile": 2, "ocppInterface": "Wired0"}}
    client.reply(message_id, {"status": "Accepted"})
    message_id, action, payload = client.next_call()
    assert action == "SetVariables"
    (item,) = payload["setVariableData"]
    assert (item["component"]["name"], item["variable"]["name"]) == (
        "OCPPCommCtrlr", "NetworkConfigurationPriority")
    # The new slot first; the one in use stays behind it for the station's fallback.
    assert item["attributeValue"] == f"{slot},1"
    client.reply(message_id, {"setVariableResult": [{
        "attributeStatus": "Accepted", "attributeType": "Actual",
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "NetworkConfigurationPriority"}}]})
    message_id, action, payload = client.next_call()
    assert (action, payload) == ("Reset", {"type": "OnIdle"})
    client.reply(message_id, {"status": "Accepted"})


def tls_port_of(tls_server):  # noqa: F811
    return int(tls_server.wss_url.rsplit(":", 1)[1])


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_upgrade_1_to_2_reconnects_over_tls_then_plain_ws_is_refused(
        tls_server, tls_api, pki, identity, version):  # noqa: F811
    client = profile_1_station(tls_server, identity, version)
    response = tls_api.post("/security-profile-upgrades/",
                            json={"station": identity, "security_profile": 2})
    assert response.status_code == 202, response.text
    upgrade_id = response.json()["id"]
    assert response.json()["from_profile"] == 1 and response.json()["to_profile"] == 2

    if version == "2.0.1":
        accept_the_2_0_1_sequence(client, tls_port_of(tls_server))
    else:
        message_id, action, payload = client.next_call()
        assert action == "ChangeConfiguration"
        assert payload == {"key": "SecurityProfile", "value": "2"}
        client.reply(message_id, {"status": "Accepted"})
    eventually(lambda: state_of(upgrade_id) == "AwaitingReconnect")
    # Every step accepted, but the station has not come back over TLS: profile 1 still holds.
    assert Station.objects.get(identity=identity).security_profile == 1
    client.close()

    secure = open_station(tls_server.wss_url, identity, client_context(pki["server_ca"]),
                          password=PASSWORD, version=version)
    try:
        assert secure.boot()["status"] == "Accepted"
    finally:
        secure.close()
    assert Station.objects.get(identity=identity).security_profile == 2
    assert state_of(upgrade_id) == "Completed"
    assert tls_api.get(f"/stations/{identity}/").json()["security_profile"] == 2
    # No way back: plain ws is refused from now on.
    assert upgrade_status(tls_server.ws_url, identity, password=PASSWORD) == 426


def test_a_station_that_never_comes_back_over_tls_keeps_profile_1(
        tls_server, tls_api, identity):  # noqa: F811
    client = profile_1_station(tls_server, identity, "2.0.1")
    upgrade_id = tls_api.post("/security-profile-upgrades/",
                              json={"station": identity, "security_profile": 2}).json()["id"]
    accept_the_2_0_1_sequence(client, tls_port_of(tls_server))
    eventually(lambda: state_of(upgrade_id) == "AwaitingReconnect")
    client.close()
    # It fell back to its old network profile: plain ws with its password still admits it.
    again = StationClient(tls_server.ws_url, identity, "2.0.1", PASSWORD)
    try:
        assert again.boot()["status"] == "Accepted"
    finally:
        again.close()
    assert Station.objects.get(identity=identity).security_profile == 1
    assert state_of(upgrade_id) == "AwaitingReconnect"


def test_a_refused_step_ends_the_upgrade_and_nothing_changes(
        tls_server, tls_api, identity):  # noqa: F811
    client = profile_1_station(tls_server, identity, "2.0.1")
    upgrade_id = tls_api.post("/security-profile-upgrades/",
                              json={"station": identity, "security_profile": 2}).json()["id"]
    message_id, action, _ = client.next_call()
    assert action == "SetNetworkProfile"
    client.reply(message_id, {"status": "Rejected"})
    eventually(lambda: state_of(upgrade_id) == "Rejected")
    upgrade = tls_api.get(f"/security-profile-upgrades/{upgrade_id}/").json()
    assert upgrade["detail"] == "SetNetworkProfile: rejected"
    # Neither the priority nor a Reset follows a refused profile.
    with pytest.raises(TimeoutError):
        client.next_call(timeout=1)
    assert Station.objects.get(identity=identity).security_profile == 1
    client.close()


def test_api_field_is_read_only_and_downgrades_are_refused(api, identity):
    assert api.post("/stations/", json={"identity": identity, "security_profile": 2,
                                        "password": PASSWORD}).status_code == 201
    assert api.get(f"/stations/{identity}/").json()["security_profile"] == 2
    response = api.patch(f"/stations/{identity}/", json={"security_profile": 1})
    assert response.status_code == 400
    assert "Downgrade refused" in response.text
    response = api.patch(f"/stations/{identity}/", json={"security_profile": 3})
    assert response.status_code == 400
    assert "/api/v1/security-profile-upgrades/" in response.text
    assert api.patch(f"/stations/{identity}/", json={"security_profile": 2}).status_code == 200

    # Never connected: its OCPP version is unknown.
    response = api.post("/security-profile-upgrades/", json={"station": identity,
                                                             "security_profile": 3})
    assert response.status_code == 409, response.text
    Station.objects.filter(identity=identity).update(security_profile=3, ocpp_version="2.0.1")
    response = api.post("/security-profile-upgrades/", json={"station": identity,
                                                             "security_profile": 2})
    assert response.status_code == 400
    assert "downgrade refused" in response.json()["detail"]
    response = api.post("/security-profile-upgrades/", json={"station": identity,
                                                             "security_profile": 3})
    assert response.status_code == 400
    assert "already has security profile 3" in response.json()["detail"]
    assert api.post("/security-profile-upgrades/", json={"station": identity,
                                                         "security_profile": 1}).status_code == 400
    assert Station.objects.get(identity=identity).security_profile == 3
    assert not SecurityProfileUpgrade.objects.filter(station__identity=identity).exists()


def test_a_1_6_upgrade_refuses_2_0_1_network_fields(api, identity):
    Station.objects.create(identity=identity, security_profile=1, ocpp_version="1.6")
    response = api.post("/security-profile-upgrades/", json={
        "station": identity, "security_profile": 2, "configuration_slot": 3})
    assert response.status_code == 400
    assert "vendor configuration" in response.json()["detail"]


def test_upgrade_2_to_3_is_completed_by_the_client_certificate(
        tls_server, tls_api, pki, identity):  # noqa: F811
    station = Station(identity=identity, security_profile=2)
    station.set_password(PASSWORD)
    station.save()
    context = client_context(pki["server_ca"])
    client = open_station(tls_server.wss_url, identity, context, password=PASSWORD, version="1.6")
    client.auto_answer = False
    assert client.boot()["status"] == "Accepted"
    upgrade_id = tls_api.post("/security-profile-upgrades/",
                              json={"station": identity, "security_profile": 3}).json()["id"]
    message_id, action, payload = client.next_call()
    assert (action, payload) == ("ChangeConfiguration", {"key": "SecurityProfile", "value": "3"})
    client.reply(message_id, {"status": "RebootRequired"})
    # The station asked for a reboot to apply it: a Reset follows.
    message_id, action, payload = client.next_call()
    assert (action, payload) == ("Reset", {"type": "Soft"})
    client.reply(message_id, {"status": "Accepted"})
    eventually(lambda: state_of(upgrade_id) == "AwaitingReconnect")
    client.close()
    # A certificate whose CN is another station's proves nothing for this one.
    wrong = client_context(pki["server_ca"], pki["station_ca"].issue(identity + "-other"))
    assert upgrade_status(tls_server.wss_url, identity, wrong) == 401
    assert Station.objects.get(identity=identity).security_profile == 2

    certificate = client_context(pki["server_ca"], pki["station_ca"].issue(identity))
    # Its certificate is its credential now: no password needed.
    assert upgrade_status(tls_server.wss_url, identity, certificate) == 101
    assert Station.objects.get(identity=identity).security_profile == 3
    assert state_of(upgrade_id) == "Completed"
    # Basic auth over TLS no longer admits it.
    assert upgrade_status(tls_server.wss_url, identity, context, password=PASSWORD) == 401


def test_an_offline_station_fails_at_once_and_keeps_its_profile(api, identity):
    Station.objects.create(identity=identity, security_profile=1, ocpp_version="2.0.1")
    response = api.post("/security-profile-upgrades/", json={"station": identity,
                                                             "security_profile": 2})
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["state"], body["command_action"], body["command_status"]) == (
        "Failed", "SetNetworkProfile", "offline")
    assert Station.objects.get(identity=identity).security_profile == 1
    listed = api.get("/security-profile-upgrades/", params={"station": identity}).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
