"""The station page's security profile panel: the profile enforced now, the upgrade form (A05)
and the upgrades with their current step; refusals shown as messages."""
import httpx
import pytest

from stations.models import SecurityProfileUpgrade, Station
from tests.helpers import eventually


@pytest.fixture
def browser(csms, operator):
    with httpx.Client(base_url=csms.base_url, follow_redirects=True, timeout=30) as client:
        login = client.get("/accounts/login/")
        client.post("/accounts/login/", data={
            "username": operator["user"].username, "password": operator["password"],
            "csrfmiddlewaretoken": login.cookies.get("csrftoken")})
        yield client


def post_upgrade(browser, csms, identity, data):
    path = f"/stations/{identity}/security-profile-upgrade/"
    return browser.post(path, data={**data, "csrfmiddlewaretoken": browser.cookies.get("csrftoken")},
                        headers={"Referer": f"{csms.base_url}{path}"})


def panel(response):
    return response.text.split('id="profile-upgrade-panel"', 1)[1].split("</section>", 1)[0]


def test_upgrade_from_the_station_page(browser, csms, connect_station, identity):
    station = connect_station(identity, "2.0.1", auto_answer=False)
    assert 'data-panel="profile-upgrade"' in browser.get(f"/stations/{identity}/").text
    page = browser.get(f"/stations/{identity}/security-profile/")
    assert "1: Basic auth over ws" in panel(page)
    assert 'id="profile-upgrade-form"' in panel(page)

    answer = post_upgrade(browser, csms, identity, {"security_profile": "2", "configuration_slot": "3"})
    assert answer.status_code == 200
    assert "Upgrade to security profile 2 sent" in answer.text
    message_id, action, payload = station.next_call()
    assert action == "SetNetworkProfile" and payload["configurationSlot"] == 3
    assert payload["connectionData"]["securityProfile"] == 2
    station.reply(message_id, {"status": "Rejected"})
    eventually(lambda: SecurityProfileUpgrade.objects.get(station__identity=identity).state
               == "Rejected")
    rows = panel(browser.get(f"/stations/{identity}/security-profile/"))
    assert "1 → 2" in rows and "Rejected" in rows and "SetNetworkProfile: rejected" in rows
    assert Station.objects.get(identity=identity).security_profile == 1


def test_refusals_are_messages_not_errors(browser, csms, connect_station, identity):
    connect_station(identity, "1.6")
    answer = post_upgrade(browser, csms, identity, {"security_profile": "1"})
    assert answer.status_code == 200
    assert "Security profile not raised: security_profile" in answer.text
    answer = post_upgrade(browser, csms, identity, {"security_profile": "2",
                                                    "ocpp_csms_url": "wss://elsewhere/ocpp"})
    assert "vendor configuration" in answer.text
    Station.objects.filter(identity=identity).update(security_profile=3)
    answer = post_upgrade(browser, csms, identity, {"security_profile": "2"})
    assert "downgrade refused" in answer.text
    # Nothing left to raise: the form is gone.
    assert 'id="profile-upgrade-form"' not in panel(
        browser.get(f"/stations/{identity}/security-profile/"))
    assert not SecurityProfileUpgrade.objects.filter(station__identity=identity).exists()
