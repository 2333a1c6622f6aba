"""Reservations from the station page in a browser: the operator reserves an EVSE, the station gets
ReserveNow and answers later, the panel shows Accepted without a reload; then cancels
(CancelReservation) and sees Cancelled, and a station's ReservationStatusUpdate shows too."""
import pytest
from playwright.sync_api import expect

from tests.browser_helpers import close_page, in_thread, new_page, screenshot, wait_live
from tests.conftest import ServerProcess
from tests.transactions_helpers import new_token

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def patient_server(csms):
    """A server that waits long for answers: the test answers only once the page shows the wait."""
    server = ServerProcess("server-reservations-browser", {"OCPP_CALL_TIMEOUT": "60"}).start()
    yield server
    server.stop()


def next_call_of(station, action):
    """The next call of `action` the CSMS sent (others, e.g. after the boot, go unanswered)."""
    while True:
        message_id, sent_action, payload = station.next_call()
        if sent_action == action:
            return message_id, payload


def test_reserve_and_cancel_from_the_station_page_201(browser, operator_session, patient_server,
                                                     connect_station, identity):
    page = new_page(browser, patient_server, operator_session)
    try:
        reserve_and_cancel(page, connect_station, identity, patient_server)
    finally:
        close_page(page)


def reserve_and_cancel(page, connect_station, identity, server):
    token = in_thread(new_token)
    station = connect_station(identity, server=server)
    station.auto_answer = False  # the test answers, after the page shows the wait

    page.goto(f"/stations/{identity}/")
    panel = page.locator("#reservations-panel")
    expect(panel.locator("#reservations tbody")).to_contain_text("No reservation yet")
    form = panel.locator("#reserve-form")
    form.locator("input[name=id_token]").fill(token.id_token)
    form.locator("select[name=id_token_type]").select_option("ISO14443")
    form.locator("input[name=evse_id]").fill("1")
    form.locator("input[name=expires_in_minutes]").fill("45")
    form.locator("button[type=submit]").click()

    message_id, payload = next_call_of(station, "ReserveNow")
    assert payload["idToken"] == {"idToken": token.id_token, "type": "ISO14443"}
    assert payload["evseId"] == 1
    row = panel.locator("#reservations tr[data-reservation]").first
    expect(row).to_have_attribute("data-status", "Pending")
    expect(row).to_contain_text("waiting for the station")
    assert row.get_attribute("data-reservation") == str(payload["id"])
    wait_live(page)
    page.evaluate("window.notReloaded = true")
    station.reply(message_id, {"status": "Accepted"})
    expect(row.locator(".reservation-status")).to_have_text("Accepted")
    expect(row).not_to_contain_text("waiting for the station")
    screenshot(page, "reservations-panel")

    row.locator("button.reservation-cancel").click()
    message_id, payload_cancel = next_call_of(station, "CancelReservation")
    assert payload_cancel == {"reservationId": payload["id"]}
    wait_live(page)
    page.evaluate("window.notReloaded = true")
    station.reply(message_id, {"status": "Accepted"})
    expect(panel.locator(f'#reservations tr[data-reservation="{payload["id"]}"] .reservation-status')
           ).to_have_text("Cancelled")
    assert page.evaluate("window.notReloaded") is True

    # A second reservation the station removes itself (2.0.1 ReservationStatusUpdate).
    form = page.locator("#reserve-form")
    form.locator("input[name=id_token]").fill(token.id_token)
    form.locator("button[type=submit]").click()
    message_id, payload = next_call_of(station, "ReserveNow")
    assert "evseId" not in payload  # any EVSE
    station.reply(message_id, {"status": "Accepted"})
    removed = page.locator(f'#reservations tr[data-reservation="{payload["id"]}"] .reservation-status')
    expect(removed).to_have_text("Accepted")
    wait_live(page)
    page.evaluate("window.notReloaded = true")
    station.call("ReservationStatusUpdate", {"reservationId": payload["id"],
                                             "reservationUpdateStatus": "Removed"})
    expect(removed).to_have_text("Removed")
    assert page.evaluate("window.notReloaded") is True


def test_reserve_refused_by_a_16_station_shows_its_answer(page, connect_station, identity):
    token = in_thread(new_token)
    station = connect_station(identity, "1.6")
    station.answers["ReserveNow"] = {"status": "Occupied"}
    page.goto(f"/stations/{identity}/")
    form = page.locator("#reserve-form")
    expect(form.locator("select[name=id_token_type]")).to_have_count(0)  # 1.6 idTags carry no type
    form.locator("input[name=id_token]").fill(token.id_token)
    form.locator("input[name=evse_id]").fill("2")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash.command").first).to_contain_text("Occupied")
    row = page.locator("#reservations tr[data-reservation]").first
    expect(row.locator(".reservation-status")).to_have_text("Occupied")
    expect(row.locator("button.reservation-cancel")).to_have_count(0)
    sent = [payload for _, action, payload in list(station.received_calls.queue) if action == "ReserveNow"]
    assert sent[0]["idTag"] == token.id_token and sent[0]["connectorId"] == 2


def test_reserve_form_errors_are_shown(page, connect_station, identity):
    connect_station(identity)
    page.goto(f"/stations/{identity}/")
    form = page.locator("#reserve-form")
    form.locator("input[name=id_token]").fill("NO-SUCH-CARD")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash.error").first).to_contain_text("No id token 'NO-SUCH-CARD' is known")
    expect(page.locator("#reservations tbody")).to_contain_text("No reservation yet")
