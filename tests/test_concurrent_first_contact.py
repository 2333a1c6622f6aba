"""First contacts racing each other (meaningful on Postgres, where they run side by side): one
identity's first sockets opened at once, one transaction's first event stored at once. The losers
of each unique-key race retry; nobody gets an error and nothing is stored twice."""
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from csms.models import Command, StationPresence
from tests.helpers import eventually
from tests.station import StationClient
from tests.transactions_helpers import event

RACERS = 8


def race(function, count=RACERS):
    """Run `function(n)` in `count` threads released at once; their results, in order."""
    barrier = threading.Barrier(count)

    def run(n):
        barrier.wait()
        try:
            return function(n)
        finally:
            connection.close()  # this thread's database connection, if it opened one

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_first_sockets_of_one_identity_at_once_leave_one_live(csms, api, identity):
    clients = race(lambda n: StationClient(csms.ws_url, identity))
    try:
        # Each newer socket replaced the one before it: exactly one is left, the presence's.
        eventually(lambda: sum(not client.closed.is_set() for client in clients) == 1)
        live = next(client for client in clients if not client.closed.is_set())
        assert {client.close_code for client in clients if client is not live} == {1000}
        assert StationPresence.objects.filter(identity=identity).count() == 1
        assert live.boot()["status"] == "Accepted"
        assert api.get(f"/stations/{identity}/").json()["online"] is True
        response = api.post(f"/stations/{identity}/commands/",
                            json={"action": "ClearCache", "payload": {}, "wait": 10})
        assert response.json()["status"] == "accepted", response.text
        assert live.received_calls.get_nowait()[1] == "ClearCache"
        assert Command.objects.filter(identity=identity).count() == 1
    finally:
        for client in clients:
            client.close()


def test_first_event_of_one_transaction_at_once_is_stored_once(django_db_setup):
    from stations.models import Station
    from transactions.actions import record_transaction_event
    from transactions.models import Transaction, TransactionEvent

    station = Station.objects.create(identity=f"CS-{uuid.uuid4().hex[:10]}")
    transaction_id = f"TX-{uuid.uuid4().hex[:8]}"
    started = event("Started", 0, 0, transaction_id, trigger="CablePluggedIn",
                    charging_state="EVConnected", meter_wh=1000, evse=1)
    answers = race(lambda n: record_transaction_event(station.pk, started))
    assert all(answer == answers[0] for answer in answers), answers
    transaction = Transaction.objects.get(station=station, transaction_id=transaction_id)
    assert TransactionEvent.objects.filter(transaction=transaction).count() == 1
    assert transaction.meter_values.count() == 1
