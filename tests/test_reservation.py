"""Reservations (ReserveNow / CancelReservation / ReservationStatusUpdate): used by a transaction,
cancelled, refused, expired on the CSMS side, and removed by the station."""
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.helpers import eventually
from tests.transactions_helpers import event, new_token, start_16
from transactions.models import Reservation, Transaction


def in_future(seconds):
    return (timezone.now() + timedelta(seconds=seconds)).isoformat()


def test_reservation_used_by_a_transaction_201(connect_station, identity, api):
    token = new_token()
    station = connect_station(identity)
    station.answers["ReserveNow"] = {"status": "Accepted"}
    response = api.post(f"/stations/{identity}/reserve/", json={
        "id_token": token.id_token, "expires_at": in_future(3600), "evse_id": 1,
        "connector_type": "cCCS2", "wait": 20})
    assert response.status_code == 201, response.text
    body = response.json()
    reservation = body["reservation"]
    assert reservation["status"] == "Accepted"
    assert body["payload"]["id"] == reservation["id"] and body["payload"]["evseId"] == 1
    assert body["payload"]["connectorType"] == "cCCS2"
    started = event("Started", 0, 0, f"tx-{uuid.uuid4().hex[:8]}", trigger="Authorized",
                    token=token, evse=1)
    started["reservationId"] = reservation["id"]
    station.call("TransactionEvent", started)
    assert Reservation.objects.get(pk=reservation["id"]).status == "Used"
    detail = api.get(f"/reservations/{reservation['id']}/").json()
    assert detail["transactions"] == [Transaction.objects.get(station__identity=identity).pk]


def test_reservation_used_by_a_transaction_16(connect_station, identity, api):
    group = new_token("GRP", type="Central")
    token = new_token(group=group)
    station = connect_station(identity, "1.6")
    station.answers["ReserveNow"] = {"status": "Accepted"}
    body = api.post("/reservations/", json={
        "station": identity, "id_token": token.id_token, "expires_at": in_future(600),
        "wait": 20}).json()
    assert body["payload"]["connectorId"] == 0  # any connector
    assert body["payload"]["parentIdTag"] == group.id_token
    reservation_id = body["reservation"]["id"]
    station.call("StartTransaction", start_16(1, token, 0, 0, reservationId=reservation_id))
    assert Reservation.objects.get(pk=reservation_id).status == "Used"
    assert Transaction.objects.get(station__identity=identity).reservation_id == reservation_id


def test_reservation_cancelled(connect_station, identity, api):
    station = connect_station(identity, "1.6")
    station.answers["ReserveNow"] = {"status": "Accepted"}
    station.answers["CancelReservation"] = {"status": "Accepted"}
    reservation_id = api.post(f"/stations/{identity}/reserve/", json={
        "id_token": new_token().id_token, "expires_at": in_future(600), "evse_id": 2,
        "wait": 20}).json()["reservation"]["id"]
    cancelled = api.post(f"/reservations/{reservation_id}/cancel/", json={"wait": 20})
    assert cancelled.status_code == 201 and cancelled.json()["payload"] == {"reservationId": reservation_id}
    assert Reservation.objects.get(pk=reservation_id).status == "Cancelled"
    again = api.post(f"/reservations/{reservation_id}/cancel/", json={})
    assert again.status_code == 400 and "Cancelled" in again.json()["detail"]


def test_reservation_refused_by_the_station(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["ReserveNow"] = {"status": "Occupied"}
    reservation_id = api.post(f"/stations/{identity}/reserve/", json={
        "id_token": new_token().id_token, "expires_at": in_future(600)}).json()["reservation"]["id"]
    # Applied by the settle sweep, without anyone waiting for the answer.
    assert eventually(lambda: Reservation.objects.get(pk=reservation_id).status == "Occupied")


def test_reservation_expires_on_the_csms_side(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["ReserveNow"] = {"status": "Accepted"}
    # The expiry must fall after the station's confirmation: short keeps the test quick; when a
    # loaded machine confirms too late (POST refused as past, or expired before Accepted), longer.
    for seconds in (2, 8, 30):
        expires_at = timezone.now() + timedelta(seconds=seconds)
        response = api.post(f"/stations/{identity}/reserve/", json={
            "id_token": new_token().id_token, "expires_at": expires_at.isoformat(), "wait": seconds})
        if response.status_code == 201 and response.json()["reservation"]["status"] == "Accepted":
            break
    else:
        pytest.fail(f"the station never confirmed a reservation before its expiry: {response.text}")
    reservation_id = response.json()["reservation"]["id"]
    expired = eventually(lambda: Reservation.objects.filter(pk=reservation_id, status="Expired").first(),
                         timeout=seconds + 30)
    assert expired.updated_at >= expires_at  # at its expiry, not before


def test_reservation_removed_by_the_station(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["ReserveNow"] = {"status": "Accepted"}
    reservation_id = api.post(f"/stations/{identity}/reserve/", json={
        "id_token": new_token().id_token, "expires_at": in_future(600), "wait": 20,
    }).json()["reservation"]["id"]
    station.call("ReservationStatusUpdate", {"reservationId": reservation_id,
                                             "reservationUpdateStatus": "Removed"})
    assert Reservation.objects.get(pk=reservation_id).status == "Removed"


def test_reservation_bad_requests(connect_station, identity, api):
    connect_station(identity)
    past = api.post(f"/stations/{identity}/reserve/", json={
        "id_token": new_token().id_token, "expires_at": in_future(-60)})
    assert past.status_code == 400 and "future" in past.json()["detail"]
    missing = api.post("/reservations/", json={"station": identity})
    assert missing.status_code == 400 and missing.json()["detail"]
