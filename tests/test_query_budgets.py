"""The database statements each kind of station message costs, held to a budget: a change that
adds a query to the hot path fails here, not in a benchmark weeks later. Handlers run through
the router on this thread (csms/ocpp/inline.py), group commit and all; the counts include the
signal receivers' work after the commit (webhooks, site triggers)."""
import asyncio
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from csms.models import ServerProcess
from csms.ocpp import inline, lifecycle, presence, runtime
from csms.ocpp.session import StationSession
from stations.models import Station
from transactions.models import IdToken

# Statements per message, BEGIN and COMMIT included (PostgreSQL's count; SQLite's is the same or
# lower). The hot path (readings, the usual Updated) is group-committed: its BEGIN and COMMIT are
# shared with every other station's of the same batch, and so are the compare-and-set, the event
# INSERT and the readings INSERT (one statement each for the whole batch on PostgreSQL,
# tests/test_ingest_hot_path.py): alone, an Updated costs those 3 and BEGIN/COMMIT, plus the
# site-membership check of its readings and the webhook subscriptions' lookup after the commit
# (in a batch, that lookup too is one for all: csms.ocpp.ingest.batch_scopes). A boot loads the
# station with every app's question answered (stations/standing.py) and saves it, a status change
# writes the connector and asks its questions at once: the receivers with nothing waiting for the
# station add nothing.
BUDGETS = {
    ("2.0.1", "BootNotification"): 2,
    ("2.0.1", "Heartbeat"): 0,
    ("2.0.1", "StatusNotification", "first seen"): 15,
    ("2.0.1", "StatusNotification", "known"): 2,
    ("2.0.1", "Authorize", "known token"): 1,
    ("2.0.1", "TransactionEvent", "Started"): 16,
    ("2.0.1", "TransactionEvent", "Updated, first of the session"): 8,
    ("2.0.1", "TransactionEvent", "Updated"): 7,
    ("2.0.1", "TransactionEvent", "Ended"): 15,
    ("2.0.1", "MeterValues"): 3,
    ("1.6", "BootNotification"): 2,
    ("1.6", "StartTransaction"): 16,
    ("1.6", "MeterValues", "first of the session"): 7,
    ("1.6", "MeterValues", "in a transaction"): 6,
    ("1.6", "MeterValues", "outside a transaction"): 3,
    ("1.6", "StopTransaction"): 12,
}
T0 = datetime(2026, 5, 1, 8, tzinfo=timezone.utc)


def at(seconds):
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def readings(seconds, wh, context="Sample.Periodic", version="2.0.1"):
    def sample(value, measurand, unit, phase=None):
        entry = {"value": value if version == "2.0.1" else str(value), "measurand": measurand,
                 "context": context}
        entry.update({"unitOfMeasure": {"unit": unit}} if version == "2.0.1" else {"unit": unit})
        if phase:
            entry["phase"] = phase
        return entry
    return [{"timestamp": at(seconds), "sampledValue": [
        sample(wh, "Energy.Active.Import.Register", "Wh"),
        sample(7200, "Power.Active.Import", "W"),
        *(sample(10.5, "Current.Import", "A", phase) for phase in ("L1", "L2", "L3")),
    ]}]


@pytest.fixture
def pushes_gathered_elsewhere(monkeypatch):
    """As in a server: dashboard pushes are gathered on the event loop and made later, not
    inline (they are not the message's own cost)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(runtime, "_loop", loop)
    yield
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


class Counter:
    def __init__(self):
        self.counts = {}
        self.statements = {}

    def __call__(self, key, session, action, payload):
        with CaptureQueriesContext(connection) as queries:
            answer = inline.handle(session, action, payload)
        self.counts[key] = len(queries)
        self.statements[key] = [query["sql"] for query in queries.captured_queries]
        return answer


def session_for(version):
    identity = f"CS-budget-{uuid.uuid4().hex[:8]}"
    station = Station.objects.create(identity=identity, ocpp_version=version)
    return StationSession(identity=identity, ocpp_version=version, connection_id="budget",
                          station_pk=station.pk, registration_status="Accepted")


def boot(count, version, session):
    payload = ({"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
               if version == "2.0.1" else {"chargePointModel": "M", "chargePointVendor": "V"})
    count((version, "BootNotification"), session, "BootNotification", payload)


@pytest.fixture
def no_webhook_subscribers():
    """Counted without subscribers: each active subscription adds its delivery's statements
    (another test's subscriptions may still be in the shared database)."""
    from csms.webhooks.models import WebhookSubscription

    active = list(WebhookSubscription.objects.filter(active=True).values_list("pk", flat=True))
    WebhookSubscription.objects.filter(pk__in=active).update(active=False)
    yield
    WebhookSubscription.objects.filter(pk__in=active).update(active=True)


def test_queries_per_message_kind_stay_within_budget(pushes_gathered_elsewhere,
                                                     no_webhook_subscribers):
    count = Counter()
    token = IdToken.objects.create(id_token=f"TAG{uuid.uuid4().hex[:8]}", type="ISO14443")
    id_token = {"idToken": token.id_token, "type": token.type}

    session = session_for("2.0.1")
    boot(count, "2.0.1", session)
    count(("2.0.1", "Heartbeat"), session, "Heartbeat", {})
    status = {"timestamp": at(0), "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}
    count(("2.0.1", "StatusNotification", "first seen"), session, "StatusNotification", status)
    count(("2.0.1", "StatusNotification", "known"), session, "StatusNotification",
          {**status, "timestamp": at(1)})
    count(("2.0.1", "Authorize", "known token"), session, "Authorize", {"idToken": id_token})
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"

    def event(event_type, seq_no, seconds, wh, **extra):
        context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(
            event_type, "Sample.Periodic")
        return {"eventType": event_type, "timestamp": at(seconds), "seqNo": seq_no,
                "triggerReason": extra.pop("trigger", "MeterValuePeriodic"),
                "transactionInfo": {"transactionId": transaction_id, **extra},
                "meterValue": readings(seconds, wh, context)}

    started = event("Started", 0, 0, 1000, trigger="Authorized", chargingState="Charging")
    started.update(idToken=id_token, evse={"id": 1, "connectorId": 1})
    count(("2.0.1", "TransactionEvent", "Started"), session, "TransactionEvent", started)
    count(("2.0.1", "TransactionEvent", "Updated, first of the session"), session,
          "TransactionEvent", event("Updated", 1, 60, 1100))
    answer = count(("2.0.1", "TransactionEvent", "Updated"), session, "TransactionEvent",
                   event("Updated", 2, 120, 1200))
    assert answer == {}  # no tariff: no cost
    ended = event("Ended", 3, 180, 1300, trigger="StopAuthorized", stoppedReason="Local")
    ended["idToken"] = id_token
    count(("2.0.1", "TransactionEvent", "Ended"), session, "TransactionEvent", ended)
    count(("2.0.1", "MeterValues"), session, "MeterValues",
          {"evseId": 0, "meterValue": readings(200, 5000)})

    session = session_for("1.6")
    boot(count, "1.6", session)
    answer = count(("1.6", "StartTransaction"), session, "StartTransaction", {
        "connectorId": 1, "idTag": token.id_token, "meterStart": 1000, "timestamp": at(0)})
    number = answer["transactionId"]
    count(("1.6", "MeterValues", "first of the session"), session, "MeterValues", {
        "connectorId": 1, "transactionId": number,
        "meterValue": readings(60, 1100, version="1.6")})
    count(("1.6", "MeterValues", "in a transaction"), session, "MeterValues", {
        "connectorId": 1, "transactionId": number,
        "meterValue": readings(120, 1200, version="1.6")})
    count(("1.6", "MeterValues", "outside a transaction"), session, "MeterValues", {
        "connectorId": 2, "meterValue": readings(130, 50, version="1.6")})
    count(("1.6", "StopTransaction"), session, "StopTransaction", {
        "transactionId": number, "idTag": token.id_token, "meterStop": 1300,
        "timestamp": at(180)})

    print("statements per message:", count.counts)
    over = {key: (spent, BUDGETS[key]) for key, spent in count.counts.items()
            if spent > BUDGETS[key]}
    for key in over:
        print(key, *count.statements[key], sep="\n  ")
    assert not over, f"over budget (spent, budget): {over}"
    assert set(count.counts) == set(BUDGETS)


def test_a_reconnect_costs_three_statements_when_nothing_waits(pushes_gathered_elsewhere,
                                                                no_webhook_subscribers):
    """What a consumer's open_session does: claim the presence (one UPDATE that returns the
    previous holder, on PostgreSQL), mark the station connected, ask every app's question at
    once; no receiver has anything to do."""
    presence.beat()
    session = session_for("2.0.1")
    directory = lifecycle.directory()
    try:
        assert presence.register(session) is None  # first connect: the row is inserted
        directory.connected(session)
        again = StationSession(identity=session.identity, ocpp_version="2.0.1",
                               connection_id="budget-2", channel_name="specific.again",
                               station_pk=session.station_pk, registration_status="Accepted")
        with CaptureQueriesContext(connection) as queries:
            previous = presence.register(again)
            directory.connected(again)
        # The socket replaced is the one told to close.
        assert previous == (session.channel_name, session.connection_id)
        statements = [query["sql"] for query in queries.captured_queries]
        print("statements per reconnect:", len(statements))
        budget = 3 if connection.vendor == "postgresql" else 6
        assert len(statements) <= budget, "\n".join(statements)
    finally:
        ServerProcess.objects.filter(server_id=presence.SERVER_ID).delete()
