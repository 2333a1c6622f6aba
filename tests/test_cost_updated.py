"""Running cost: totalCost in TransactionEvent answers, CostUpdated at the tariff's interval
(periodic task), nothing sent once the transaction ended; the same cost for 1.6 sessions."""
import uuid
from decimal import Decimal

from tests.helpers import eventually
from tests.transactions_helpers import event, new_token, start_16, stop_16, tariff_for_station
from transactions.models import Transaction


def test_cost_updated_sent_while_running(connect_station, identity):
    tariff_for_station(identity, price_per_session=Decimal("2.00"), cost_update_interval=1)
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    from django.utils import timezone

    now = timezone.now().isoformat()
    started = event("Started", 0, 0, transaction_id, trigger="Authorized", token=new_token(),
                    charging_state="Charging", evse=1)
    started["timestamp"] = now
    assert station.call("TransactionEvent", started)["totalCost"] == 2.0
    message_id, action, payload = station.next_call()
    assert action == "CostUpdated"
    assert payload == {"totalCost": 2.0, "transactionId": transaction_id}
    station.reply(message_id, {})
    # The task records what it sent after handing the call over: poll for it.
    row = eventually(lambda: Transaction.objects.filter(
        station__identity=identity, transaction_id=transaction_id, cost_sent__isnull=False).first())
    assert row.cost_sent == Decimal("2.00") and row.cost_sent_at is not None


def test_cost_of_16_session_in_api(connect_station, identity, api):
    tariff_for_station(identity, price_per_kwh=Decimal("0.40"), price_per_minute=Decimal("0.01"),
                       vat_percent=Decimal("19"))
    station = connect_station(identity, "1.6")
    started = station.call("StartTransaction", start_16(1, new_token(), 0, 0))
    station.call("StopTransaction", stop_16(started["transactionId"], 11_000, 3000))
    row = Transaction.objects.get(station__identity=identity, transaction_id=str(started["transactionId"]))
    # 11 kWh x 0.40 + 50 min charging x 0.01 = 4.90, +19% VAT = 5.831.
    assert row.total_cost == Decimal("5.83") and row.charging_seconds == 3000
    detail = api.get(f"/transactions/{row.pk}/").json()
    assert detail["total_cost"] == "5.83" and detail["currency"] == "EUR"
    assert detail["cost_breakdown"]["energy"] == "4.4000"
