"""Remote start follows the unknown-token policy: under `accept` an unknown card goes out (recorded
as Authorize records it), from the API and from the station page; under `reject` it is refused."""
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser_helpers import close_page, in_thread, new_page
from tests.conftest import ServerProcess
from tests.helpers import eventually
from transactions.models import IdToken


@pytest.fixture(scope="module")
def accepting_server(csms):
    server = ServerProcess("server-remote-start-accepting",
                           {"TRANSACTIONS_UNKNOWN_ID_TOKEN_POLICY": "accept"}).start()
    yield server
    server.stop()


@pytest.fixture
def accepting_api(accepting_server, operator):
    with httpx.Client(base_url=f"{accepting_server.base_url}/api/v1",
                      headers={"Authorization": f"Token {operator['token']}"}, timeout=30) as client:
        yield client


def test_api_remote_start_with_unknown_token_goes_out_under_accept(
        connect_station, identity, accepting_server, accepting_api):
    station = connect_station(identity, server=accepting_server)
    station.answers["RequestStartTransaction"] = {"status": "Accepted"}
    card = f"NEW{uuid.uuid4().hex[:10]}"
    answer = accepting_api.post(f"/stations/{identity}/start-transaction/", json={
        "id_token": card, "id_token_type": "ISO15693", "evse_id": 1, "wait": 10})
    assert answer.status_code == 201, answer.text
    assert answer.json()["payload"]["idToken"] == {"idToken": card, "type": "ISO15693"}
    recorded = IdToken.objects.get(id_token=card)
    assert (recorded.type, recorded.seen_first_at_station, recorded.status) == (
        "ISO15693", True, "Accepted")


def test_api_remote_start_with_unknown_token_refused_under_reject(connect_station, identity, api):
    connect_station(identity)
    card = f"NEW{uuid.uuid4().hex[:10]}"
    answer = api.post(f"/stations/{identity}/start-transaction/", json={"id_token": card})
    assert answer.status_code == 400 and card in answer.json()["detail"]
    assert not IdToken.objects.filter(id_token=card).exists()


def test_api_remote_start_with_too_long_unknown_token_is_a_400(
        connect_station, identity, accepting_server, accepting_api):
    connect_station(identity, server=accepting_server)
    answer = accepting_api.post(f"/stations/{identity}/start-transaction/",
                                json={"id_token": "X" * 37})
    assert answer.status_code == 400, answer.text


@pytest.mark.browser
def test_dashboard_remote_start_with_unknown_card_goes_out_under_accept(
        browser, operator_session, connect_station, identity, accepting_server):
    station = connect_station(identity, "1.6", server=accepting_server)
    station.answers["RemoteStartTransaction"] = {"status": "Accepted"}
    card = f"C{uuid.uuid4().hex[:12]}"
    page = new_page(browser, accepting_server, operator_session)
    try:
        page.goto(f"/stations/{identity}/")
        page.fill("#remote-start-form input[name=id_token]", card)
        page.fill("#remote-start-form input[name=evse_id]", "1")
        page.click("#remote-start-form button[type=submit]")
        expect(page.locator(".flash.command").first).to_contain_text("RemoteStartTransaction")
        expect(page.locator(".flash.command").first).to_contain_text("Accepted")
    finally:
        close_page(page)

    def sent():
        calls = [payload for _, action, payload in list(station.received_calls.queue)
                 if action == "RemoteStartTransaction"]
        return calls == [{"idTag": card, "connectorId": 1}]
    eventually(sent)
    assert in_thread(lambda: IdToken.objects.get(id_token=card).seen_first_at_station)
