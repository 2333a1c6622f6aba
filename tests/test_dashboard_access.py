"""Every dashboard page and its live socket need a logged-in operator; logging in and out works."""
import json

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.browser_helpers import DashboardClient

# The dashboard fixtures, shared by name.

PAGES = [
    "/", "/counts/", "/register-station/", "/schemas/2.0.1/Reset/",
    "/stations/CS-any/", "/stations/CS-any/log/", "/stations/CS-any/commands/",
]
FORMS = ["/stations/CS-any/reset/", "/stations/CS-any/trigger-message/", "/stations/CS-any/send/",
         "/stations/CS-any/registration-policy/", "/register-station/"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_anonymous_users_to_login(csms, path):
    with DashboardClient(base_url=csms.base_url) as client:
        answer = client.get(path)
    assert answer.status_code == 302
    assert answer.headers["location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("path", FORMS)
def test_forms_refuse_anonymous_posts(csms, path):
    with DashboardClient(base_url=csms.base_url) as client:
        token = client.csrf_token("/accounts/login/")
        answer = client.post(path, data={"csrfmiddlewaretoken": token})
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("/accounts/login/")


def test_wrong_password_is_refused(csms, operator):
    with DashboardClient(base_url=csms.base_url) as client:
        answer = client.submit("/accounts/login/", {"username": operator["user"].username,
                                                    "password": "not-the-password"})
        assert "Wrong username or password" in answer.text
        assert "sessionid" not in client.cookies


def test_log_in_then_out(dashboard):
    assert dashboard.get("/").status_code == 200
    answer = dashboard.submit("/accounts/logout/", {}, form_page="/")
    assert answer.url.path == "/accounts/login/"
    assert dashboard.get("/").status_code == 302


def ws_url(csms):
    return f"{csms.ws_url}/ws/dashboard/"


def test_live_socket_refuses_anonymous(csms):
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(csms), open_timeout=30)
    assert refused.value.response.status_code == 403


def test_live_socket_refuses_other_sites(csms, dashboard):
    cookie = f"sessionid={dashboard.cookies['sessionid']}"
    with pytest.raises(InvalidStatus):
        connect(ws_url(csms), open_timeout=30, origin="http://evil.example",
                additional_headers={"Cookie": cookie})


def test_live_socket_pushes_station_changes(csms, dashboard, connect_station, identity):
    host = csms.base_url.removeprefix("http://")
    with connect(ws_url(csms), open_timeout=30, origin=f"http://{host}",
                 additional_headers={"Cookie": f"sessionid={dashboard.cookies['sessionid']}"}) as socket:
        station = connect_station(identity, "1.6")
        station.status("Preparing", connector_id=1)
        seen = []
        while not any(s["connectors"] for s in seen):
            message = json.loads(socket.recv(timeout=30))
            # Station rows come as kind "station"; other kinds (commands, log) pass by.
            if message["kind"] == "station" and message["station"]["identity"] == identity:
                seen.append(message["station"])
    assert seen[0]["online"] is True
    assert seen[-1]["connectors"] == [{"evse_id": None, "connector_id": 1, "status": "Preparing",
                                       "error_code": "NoError"}]
