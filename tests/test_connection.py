"""The WebSocket upgrade: subprotocols, identities, HTTP Basic auth, unknown stations, replacement."""
import base64
import urllib.parse

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from csms.models import Command, StationPresence
from stations.models import Station
from tests.helpers import eventually, send_command
from tests.station import StationClient

PASSWORD = "correct-horse-battery-staple"


def upgrade_status(url, subprotocols, headers=None):
    try:
        with connect(url, subprotocols=subprotocols, additional_headers=headers or {}, open_timeout=10) as ws:
            return 101, ws.subprotocol
    except InvalidStatus as refused:
        return refused.response.status_code, None


def basic(identity, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{identity}:{password}".encode()).decode()}


@pytest.mark.parametrize("offered,chosen", [
    (["ocpp2.0.1"], "ocpp2.0.1"), (["ocpp1.6"], "ocpp1.6"),
    (["ocpp2.0.1", "ocpp1.6"], "ocpp2.0.1"), (["ocpp1.6", "ocpp2.0.1"], "ocpp1.6"),
    (["ocpp2.1", "ocpp1.6"], "ocpp1.6"),
])
def test_subprotocol_negotiation(csms, identity, offered, chosen):
    assert upgrade_status(f"{csms.ws_url}/ocpp/{identity}", offered) == (101, chosen)


@pytest.mark.parametrize("offered", [[], ["ocpp1.5"], ["ocpp2.1"]])
def test_upgrade_refused_without_a_common_subprotocol(csms, identity, offered):
    status, _ = upgrade_status(f"{csms.ws_url}/ocpp/{identity}", offered)
    assert status == 403
    assert not Station.objects.filter(identity=identity).exists()


def test_identity_is_percent_decoded(connect_station, csms):
    identity = "Stat|ion@1"  # sent as Stat%7Cion%401
    station = StationClient(csms.ws_url, urllib.parse.quote(identity, safe=""), "2.0.1")
    try:
        assert station.boot()["status"] == "Accepted"
        assert Station.objects.filter(identity=identity, online=True).exists()
    finally:
        station.close()


def test_identity_longer_than_48_is_refused(csms):
    status, _ = upgrade_status(f"{csms.ws_url}/ocpp/{'x' * 49}", ["ocpp2.0.1"])
    assert status == 400  # tests/test_identity_rules.py: the whole identity rule


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_basic_auth_accepts_the_right_password(api, connect_station, identity, version):
    assert api.post("/stations/", json={"identity": identity, "password": PASSWORD}).status_code == 201
    station = connect_station(identity, version, password=PASSWORD)
    assert "currentTime" in station.call("Heartbeat", {})


@pytest.mark.parametrize("headers", [None, "wrong-password-123456", "other-identity"])
def test_basic_auth_refuses_with_401(api, csms, identity, headers):
    api.post("/stations/", json={"identity": identity, "password": PASSWORD})
    if headers == "other-identity":
        headers = basic("someone-else", PASSWORD)
    elif headers:
        headers = basic(identity, headers)
    with pytest.raises(InvalidStatus) as refused:
        with connect(f"{csms.ws_url}/ocpp/{identity}", subprotocols=["ocpp2.0.1"],
                     additional_headers=headers or {}, open_timeout=10):
            pass
    assert refused.value.response.status_code == 401
    # RFC 7235: a 401 names the scheme to use.
    assert refused.value.response.headers["WWW-Authenticate"] == 'Basic realm="OCPP"'


def test_password_is_never_logged(api, connect_station, identity, csms):
    api.post("/stations/", json={"identity": identity, "password": PASSWORD})
    connect_station(identity, password=PASSWORD)
    upgrade_status(f"{csms.ws_url}/ocpp/{identity}", ["ocpp2.0.1"], basic(identity, "bad-password-0000000"))
    assert PASSWORD not in csms.log_path.read_text(errors="replace")


def test_reconnect_replaces_the_old_socket(api, connect_station, identity):
    first = connect_station(identity)
    second = connect_station(identity, boot=False)
    assert first.closed.wait(30), "the old socket must be closed by the CSMS"
    assert "currentTime" in second.call("Heartbeat", {})
    assert Station.objects.get(identity=identity).online  # the old socket's close kept it online
    assert StationPresence.objects.filter(identity=identity).count() == 1
    command = send_command(api, identity, "ClearCache").json()
    assert command["status"] == "accepted"
    assert second.received_calls.qsize() == 1 and first.received_calls.empty()


def test_disconnect_marks_offline_and_settles_queued(api, connect_station, identity):
    station = connect_station(identity, auto_answer=False)
    outstanding = send_command(api, identity, "ClearCache", wait=0).json()
    queued = send_command(api, identity, "Reset", {"type": "Immediate"}, wait=0).json()
    station.next_call()
    station.close()
    eventually(lambda: not Station.objects.get(identity=identity).online)
    assert Command.objects.get(pk=outstanding["id"]).status == "error"
    assert Command.objects.get(pk=outstanding["id"]).error_code == "ConnectionClosed"
    assert Command.objects.get(pk=queued["id"]).status == "offline"


def test_connection_state_is_recorded(connect_station, identity):
    connect_station(identity, "1.6")
    station = Station.objects.get(identity=identity)
    assert station.online and station.ocpp_version == "1.6"
    assert station.remote_address == "127.0.0.1"
    assert station.connection_changed_at and station.last_message_at


@pytest.mark.parametrize("path", ["/ocpp/ocpp/{identity}", "/ocpp/", "/stations/{identity}", "/"])
def test_upgrade_to_an_unknown_path_is_not_found(csms, identity, path):
    url = csms.ws_url + path.format(identity=identity)
    with pytest.raises(InvalidStatus) as refused:
        with connect(url, subprotocols=["ocpp2.0.1"], open_timeout=10):
            pass
    assert refused.value.response.status_code == 404
    assert "/ocpp/<identity>" in refused.value.response.reason_phrase
