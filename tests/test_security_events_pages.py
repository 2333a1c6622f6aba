"""The security log page (filters) and the station page's security panel: events, failed
logins, the throttle and the password rotation button."""
import base64

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from stations.models import PasswordRotation
from tests.helpers import eventually

PASSWORD = "page-password-0123456789"


@pytest.fixture
def browser(csms, operator):
    with httpx.Client(base_url=csms.base_url, follow_redirects=True, timeout=30) as client:
        login = client.get("/accounts/login/")
        client.post("/accounts/login/", data={
            "username": operator["user"].username, "password": operator["password"],
            "csrfmiddlewaretoken": login.cookies.get("csrftoken")})
        yield client


def table(response):
    """The events table of the page (the filter's type list names every type)."""
    return response.text.split('id="security-events"', 1)[1]


def post(browser, csms, path, data=None):
    return browser.post(path, data={**(data or {}), "csrfmiddlewaretoken": browser.cookies.get("csrftoken")},
                        headers={"Referer": f"{csms.base_url}{path}"})


def test_security_log_page_filters(browser, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    station.call("SecurityEventNotification", {"type": "MemoryExhaustion", "timestamp": "2026-04-01T10:00:00Z",
                                               "techInfo": "heap at 99%"})
    station.call("SecurityEventNotification", {"type": "InvalidMessages", "timestamp": "2026-04-02T10:00:00Z"})
    page = browser.get("/security-events/", params={"station": identity})
    assert page.status_code == 200
    assert "MemoryExhaustion" in page.text and "heap at 99%" in page.text and "InvalidMessages" in page.text
    critical = table(browser.get("/security-events/", params={"station": identity, "critical": "yes"}))
    assert "MemoryExhaustion" in critical and "InvalidMessages" not in critical
    day = browser.get("/security-events/", params={"station": identity, "since": "2026-04-02"})
    assert "InvalidMessages" in day.text and "heap at 99%" not in day.text
    bad = browser.get("/security-events/", params={"since": "not-a-date"})
    assert bad.status_code == 400 and "security-filter-errors" in bad.text


def test_station_page_shows_events_failures_and_rotates_the_password(browser, api, csms, connect_station, identity):
    api.post("/stations/", json={"identity": identity, "password": PASSWORD})
    token = base64.b64encode(f"{identity}:wrong-password-000000".encode()).decode()
    with pytest.raises(InvalidStatus):
        with connect(f"{csms.ws_url}/ocpp/{identity}", subprotocols=["ocpp2.0.1"],
                     additional_headers={"Authorization": f"Basic {token}"}, open_timeout=30):
            pass
    station = connect_station(identity, "2.0.1", password=PASSWORD)
    station.call("SecurityEventNotification", {"type": "TamperDetectionActivated",
                                               "timestamp": "2026-04-03T10:00:00Z"})
    # The station page reads the panel after it loads (its own query count stays fixed).
    assert 'data-deferred-panel data-panel="security"' in browser.get(f"/stations/{identity}/").text
    page = browser.get(f"/stations/{identity}/security/")
    assert page.status_code == 200
    assert 'id="security-panel"' in page.text
    assert "TamperDetectionActivated" in page.text and "(critical)" in page.text
    assert "Wrong password" in page.text and "127.0.0.1" in page.text
    assert "wrong-password-000000" not in page.text

    station.answers["SetVariables"] = lambda payload: {"setVariableResult": [{
        "attributeStatus": "Accepted", "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"}}]}
    rotated = post(browser, csms, f"/stations/{identity}/rotate-password/")
    assert rotated.status_code == 200 and "A new password was sent" in rotated.text
    eventually(lambda: PasswordRotation.objects.filter(station__identity=identity, state="Accepted").exists())
    assert "Accepted" in browser.get(f"/stations/{identity}/security/").text


def test_rotating_a_station_that_never_connected_says_why(browser, csms, api, identity):
    api.post("/stations/", json={"identity": identity})
    answer = post(browser, csms, f"/stations/{identity}/rotate-password/")
    assert answer.status_code == 200 and "has never connected" in answer.text
    assert not PasswordRotation.objects.filter(station__identity=identity).exists()
