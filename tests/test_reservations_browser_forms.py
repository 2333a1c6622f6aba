"""The reservation panel's form posts without a browser: bad input is a message on the page (never
a 500), an unknown operation is a 404, and login is required."""
import re

import httpx

from tests.helpers import eventually
from tests.transactions_helpers import new_token
from transactions.models import Reservation


def test_bad_reservation_input_is_a_message(dashboard, connect_station, identity):
    connect_station(identity)
    page = f"/stations/{identity}/"
    action = f"/transactions/stations/{identity}/reservations/reserve/"
    token = new_token()
    for data, expected in [
        ({"id_token": token.id_token, "expires_in_minutes": "0"}, "expires_in_minutes"),
        ({"id_token": token.id_token, "expires_in_minutes": "soon"}, "expires_in_minutes"),
        ({"id_token": token.id_token, "expires_in_minutes": "30", "evse_id": "-1"}, "evse_id"),
        ({"id_token": "", "expires_in_minutes": "30"}, "id_token"),
        ({"id_token": token.id_token, "id_token_type": "Passport", "expires_in_minutes": "30"},
         "id_token_type"),
    ]:
        answer = dashboard.submit(action, data, form_page=page)
        assert answer.status_code == 200, answer.text
        assert re.search(rf"ReserveNow not sent: [^<]*{expected}", answer.text), (data, answer.text[:300])
    assert not Reservation.objects.filter(station__identity=identity).exists()

    cancel = dashboard.submit(f"/transactions/stations/{identity}/reservations/cancel/",
                              {"reservation": "not-a-number"}, form_page=page)
    assert cancel.status_code == 200 and "no such reservation" in cancel.text
    unknown = dashboard.submit(f"/transactions/stations/{identity}/reservations/steal/", {},
                               form_page=page)
    assert unknown.status_code == 404


def test_cancelling_a_closed_reservation_is_a_message(dashboard, connect_station, identity):
    station = connect_station(identity)
    station.answers["ReserveNow"] = {"status": "Rejected"}
    token = new_token()
    page = f"/stations/{identity}/"
    dashboard.submit(f"/transactions/stations/{identity}/reservations/reserve/",
                     {"id_token": token.id_token, "expires_in_minutes": "30"}, form_page=page)
    reservation = Reservation.objects.get(station__identity=identity)
    eventually(lambda: Reservation.objects.get(pk=reservation.pk).status == "Rejected")
    answer = dashboard.submit(f"/transactions/stations/{identity}/reservations/cancel/",
                              {"reservation": reservation.pk}, form_page=page)
    assert "is Rejected, not open" in answer.text


def test_reservation_panel_needs_a_login(csms, connect_station, identity):
    with httpx.Client(base_url=csms.base_url) as anonymous:
        rows = anonymous.get(f"/transactions/stations/{identity}/reservations/")
        assert rows.status_code == 302 and "/accounts/login/" in rows.headers["location"]
