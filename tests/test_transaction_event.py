"""2.0.1 TransactionEvent: a normal session's exact energy and cost, offline replays (out of
order, twice, Ended first) giving the same totals, and a stop by another token of the group."""
import uuid
from decimal import Decimal

from tests.transactions_helpers import event, new_token, normal_session, tariff_for_station
from transactions.models import MeterValue, Reservation, Transaction

PRICES = {"price_per_kwh": Decimal("0.30"), "price_per_minute": Decimal("0.02"),
          "price_per_session": Decimal("1.00"), "idle_fee_per_minute": Decimal("0.10"),
          "idle_grace_minutes": 10, "vat_percent": Decimal("20")}
# 7.5 kWh x 0.30 + 60 charging min x 0.02 + 1.00 + (30 idle min - 10) x 0.10 = 6.45, +20% VAT.
EXPECTED_TOTAL = Decimal("7.74")


def test_normal_session_energy_and_cost(connect_station, identity):
    tariff_for_station(identity, **PRICES)
    token = new_token()
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    answers = [station.call("TransactionEvent", payload) for payload in normal_session(transaction_id, token)]

    assert answers[0]["idTokenInfo"]["status"] == "Accepted"
    assert answers[0]["totalCost"] == 1.2  # the session fee alone, with VAT
    assert answers[-1]["totalCost"] == float(EXPECTED_TOTAL)
    assert "idTokenInfo" not in answers[1]  # only answered when an idToken was sent
    row = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id)
    assert row.state == "Ended" and row.stopped_reason == "EVDisconnected"
    assert row.energy_wh == Decimal("7500") and row.meter_start_wh == Decimal("1000")
    assert row.meter_stop_wh == Decimal("8500")
    assert row.charging_seconds == 3600
    assert row.total_cost == EXPECTED_TOTAL and row.currency == "EUR"
    assert row.cost_breakdown["idle"] == "2.0000" and row.cost_breakdown["vat"] == "1.2900"
    assert (row.evse_id, row.connector_id, row.id_token_id) == (1, 1, token.pk)
    assert row.events.count() == 5 and row.last_seq_no == 4 and not row.offline
    assert MeterValue.objects.filter(transaction=row).count() == 5


def test_offline_replay_out_of_order_twice_and_ended_first(connect_station, identity):
    tariff_for_station(identity, **PRICES)
    token = new_token()
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    events = normal_session(transaction_id, token)
    for payload in events:
        payload["offline"] = True
    first_answers = {}
    for index in [4, 2, 0, 2, 3, 1, 0, 4]:
        answer = station.call("TransactionEvent", events[index])
        if index in first_answers:
            assert answer == first_answers[index]  # a repeat answers the same
        else:
            first_answers[index] = answer
            if index == 4:
                # Ended seen first creates the transaction, already ended.
                row = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id)
                assert row.state == "Ended" and row.started_at is not None

    row = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id)
    assert row.offline and row.events.count() == 5
    assert row.energy_wh == Decimal("7500") and row.charging_seconds == 3600
    assert row.total_cost == EXPECTED_TOTAL
    assert row.state == "Ended" and row.stopped_reason == "EVDisconnected"
    assert row.charging_state == "Idle" and row.id_token_id == token.pk
    assert row.started_at.isoformat().startswith("2026-03-01T08:00:00")
    assert MeterValue.objects.filter(transaction=row).count() == 5


def test_group_member_stops_the_transaction(connect_station, identity):
    group = new_token("GROUP", type="Central")
    starter, stopper = new_token(group=group), new_token(group=group)
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    started = station.call("TransactionEvent", event("Started", 0, 0, transaction_id,
                                                     trigger="Authorized", token=starter,
                                                     charging_state="Charging", evse=1))
    assert started["idTokenInfo"]["groupIdToken"] == {"idToken": group.id_token, "type": "Central"}
    ended = station.call("TransactionEvent", event("Ended", 1, 600, transaction_id,
                                                   trigger="StopAuthorized", token=stopper,
                                                   stoppedReason="Local"))
    assert ended["idTokenInfo"]["status"] == "Accepted"
    assert ended["idTokenInfo"]["groupIdToken"]["idToken"] == group.id_token
    row = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id)
    assert row.state == "Ended" and row.id_token_value == starter.id_token
    assert row.stop_id_token_value == stopper.id_token and row.stopped_reason == "Local"


def test_ended_without_reason_is_local_and_reservation_is_used(connect_station, identity):
    from datetime import timedelta

    from django.utils import timezone

    from stations.models import Station

    token = new_token()
    station = connect_station(identity)
    reservation = Reservation.objects.create(
        station=Station.objects.get(identity=identity), id_token=token, evse_id=1,
        expires_at=timezone.now() + timedelta(hours=1), status="Accepted", settled=True)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    started = event("Started", 0, 0, transaction_id, trigger="Authorized", token=token, evse=1)
    started["reservationId"] = reservation.pk
    station.call("TransactionEvent", started)
    station.call("TransactionEvent", event("Ended", 1, 60, transaction_id))
    row = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id)
    assert row.stopped_reason == "Local" and row.reservation_id == reservation.pk
    reservation.refresh_from_db()
    assert reservation.status == "Used"
