"""Station identities follow OCPP's identifierString (≤ 48 characters, no path characters): the
WebSocket upgrade refuses others with 400 before registering anything, and the API with 400."""
import urllib.parse

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from csms.ocpp.identity import identity_problem
from stations.models import Station
from tests.station import StationClient

BAD_IDENTITIES = [" ", "..", ".", "a..b", "<script>", "Stat ion", "a\\b", "x" * 49, "tab\there",
                  "é-station", "semi;colon"]
GOOD_IDENTITIES = ["CS-001", "a", "x" * 48, "EVB*P1234_5=6:7+8|9@site.example"]


def upgrade_status(server, raw_path_segment):
    try:
        with connect(f"{server.ws_url}/ocpp/{raw_path_segment}", subprotocols=["ocpp2.0.1"],
                     open_timeout=30):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


@pytest.mark.parametrize("identity", BAD_IDENTITIES)
def test_the_rule_refuses(identity):
    assert identity_problem(identity)


@pytest.mark.parametrize("identity", GOOD_IDENTITIES)
def test_the_rule_admits(identity):
    assert identity_problem(identity) == ""


@pytest.mark.parametrize("identity", BAD_IDENTITIES)
def test_the_upgrade_refuses_a_bad_identity_before_registering_it(csms, identity):
    assert upgrade_status(csms, urllib.parse.quote(identity, safe="")) == 400
    assert not Station.objects.filter(identity=identity).exists()


@pytest.mark.parametrize("raw", ["%FF%FE", "%C0%AF", "ok%00nul"])
def test_undecodable_or_control_bytes_are_refused(csms, raw):
    assert upgrade_status(csms, raw) in (400, 404)
    # Nothing outside printable ASCII was registered (a NUL included: PostgreSQL could not even
    # be asked for one).
    assert not Station.objects.exclude(identity__regex=r"^[ -~]+$").exists()


@pytest.mark.parametrize("identity", GOOD_IDENTITIES)
def test_the_upgrade_admits_a_protocol_identity(csms, identity):
    station = StationClient(csms.ws_url, urllib.parse.quote(identity, safe=""), "2.0.1")
    try:
        assert station.boot()["status"] == "Accepted"
        assert Station.objects.filter(identity=identity).exists()
    finally:
        station.close()


@pytest.mark.parametrize("identity", BAD_IDENTITIES)
def test_the_api_refuses_a_bad_identity_with_400(api, identity):
    response = api.post("/stations/", json={"identity": identity})
    assert response.status_code == 400, response.text
    assert "identity" in response.json()["errors"]
    assert not Station.objects.filter(identity=identity).exists()


def test_the_registration_page_refuses_a_bad_identity(csms, operator):
    import httpx

    with httpx.Client(base_url=csms.base_url, follow_redirects=True, timeout=30) as browser:
        login = browser.get("/accounts/login/")
        browser.post("/accounts/login/", data={
            "username": operator["user"].username, "password": operator["password"],
            "csrfmiddlewaretoken": login.cookies.get("csrftoken")})
        form = browser.get("/register-station/")
        response = browser.post("/register-station/", data={
            "identity": "../etc", "csrfmiddlewaretoken": browser.cookies.get("csrftoken")},
            headers={"Referer": f"{csms.base_url}/register-station/"})
    assert form.status_code == 200
    assert response.status_code in (200, 400)
    assert "path characters" in response.text
    assert not Station.objects.filter(identity="../etc").exists()


def test_a_setting_widens_the_character_set(settings):
    settings.OCPP_IDENTITY_PATTERN = r"[A-Za-z0-9 #._-]+"
    assert identity_problem("Stat ion#1") == ""
    # Path characters and length stay refused whatever the pattern says.
    assert identity_problem("a/b") and identity_problem("..") and identity_problem("y" * 49)
