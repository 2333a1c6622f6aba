"""The hot path (transactions/ingest.py over csms/ocpp/ingest.py): meter readings and the usual
TransactionEvent are group-committed from the transaction the socket holder keeps, give exactly
what the one-message path gives, and step aside for anything that changed under them — a tariff
edit, the operator closing the transaction — so the next message already sees the change."""
import threading
import uuid
from decimal import Decimal

from django.db.models import Count

from tests.browser_helpers import dashboard  # noqa: F401  (fixture)
from tests.test_metrics import scrape, value
from tests.transactions_helpers import (
    at, event, meter_values_16, new_token, normal_session, start_16, stop_16, tariff_for_station,
)
from transactions import actions
from transactions.models import MeterValue, Transaction

PRICES = {"price_per_kwh": Decimal("0.30"), "price_per_minute": Decimal("0.02"),
          "price_per_session": Decimal("1.00"), "idle_fee_per_minute": Decimal("0.10"),
          "idle_grace_minutes": 10, "vat_percent": Decimal("20")}


def ingest_counts(client):
    samples = scrape(client)
    return (value(samples, "csms_ingest_jobs_total"), value(samples, "csms_ingest_batches_total"),
            value(samples, "csms_ingest_fallbacks_total", action="TransactionEvent")
            + value(samples, "csms_ingest_fallbacks_total", action="MeterValues"))


def test_a_normal_session_goes_the_hot_path_and_is_billed_the_same(
        dashboard, connect_station, identity):  # noqa: F811
    tariff_for_station(identity, **PRICES)
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    jobs, _, fallbacks = ingest_counts(dashboard)
    answers = [station.call("TransactionEvent", payload)
               for payload in normal_session(transaction_id, new_token())]
    # The three Updated events come next in order, without a token: group-committed.
    jobs_after, _, fallbacks_after = ingest_counts(dashboard)
    assert jobs_after - jobs >= 3 and fallbacks_after == fallbacks
    assert answers[-1]["totalCost"] == 7.74 and answers[2]["totalCost"] > answers[1]["totalCost"]
    row = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id)
    assert row.state == "Ended" and row.energy_wh == Decimal("7500")
    assert row.charging_seconds == 3600 and row.total_cost == Decimal("7.74")
    assert row.events.count() == 5 and row.last_seq_no == 4
    assert MeterValue.objects.filter(transaction=row).count() == 5
    # What the one-message path recomputes from everything stored is what the hot path wrote.
    folded = {name: getattr(row, name) for name in actions.FOLDED_FIELDS
              if name not in ("updated_at", "last_news_at", "settle_due_at")}
    actions.derive(row)
    row.refresh_from_db()
    assert folded == {name: getattr(row, name) for name in folded}


def test_a_tariff_edit_prices_the_very_next_event(dashboard, connect_station, identity):  # noqa: F811
    tariff = tariff_for_station(identity, price_per_kwh=Decimal("0.30"))
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    session = normal_session(transaction_id, new_token())
    station.call("TransactionEvent", session[0])
    assert station.call("TransactionEvent", session[1])["totalCost"] == 0.75  # 2.5 kWh x 0.30
    _, _, fallbacks = ingest_counts(dashboard)
    tariff.price_per_kwh = Decimal("0.50")
    tariff.save()
    # 5 kWh at the new price: the kept copy's tariff is stale, so this one re-reads it.
    assert station.call("TransactionEvent", session[2])["totalCost"] == 2.5
    assert ingest_counts(dashboard)[2] == fallbacks + 1
    assert station.call("TransactionEvent", session[3])["totalCost"] == 3.75


def test_an_operator_close_is_not_overwritten_by_the_next_reading(connect_station, identity):
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    session = normal_session(transaction_id, new_token())
    station.call("TransactionEvent", session[0])
    station.call("TransactionEvent", session[1])
    row = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id)
    actions.close_transaction(row.pk, "operator", "cable stuck")
    station.call("TransactionEvent", session[2])
    row.refresh_from_db()
    # Still closed by the operator (derive() keeps a closing until a real Ended), reading kept.
    assert row.state == "Ended" and row.settlement == Transaction.Settlement.OPERATOR
    assert row.events.count() == 3


def test_16_readings_fold_and_a_resent_reading_counts_once(dashboard, connect_station, identity):  # noqa: F811
    tariff_for_station(identity, price_per_kwh=Decimal("0.40"))
    token = new_token()
    station = connect_station(identity, "1.6")
    transaction_id = station.call("StartTransaction", start_16(1, token, 1000, 0))["transactionId"]
    jobs, _, fallbacks = ingest_counts(dashboard)
    for step in range(1, 4):
        station.call("MeterValues", meter_values_16(1, transaction_id, 1000 + step * 1000, step * 600))
    station.call("MeterValues", meter_values_16(1, transaction_id, 3000, 1200))  # re-sent
    readings_outside = meter_values_16(1, None, 12345, 100)
    station.call("MeterValues", readings_outside)
    jobs_after, _, fallbacks_after = ingest_counts(dashboard)
    assert jobs_after - jobs >= 5 and fallbacks_after - fallbacks == 1  # only the repeat
    station.call("StopTransaction", stop_16(transaction_id, 4500, 2400))
    row = Transaction.objects.get(station__identity=identity, transaction_id=str(transaction_id))
    assert row.state == "Ended" and row.energy_wh == Decimal("3500")
    assert row.total_cost == Decimal("1.40")
    per_time = (MeterValue.objects.filter(transaction=row).values("timestamp")
                .annotate(n=Count("id")).filter(n__gt=1))
    assert not per_time.exists()
    assert MeterValue.objects.filter(transaction=row).count() == 5
    assert MeterValue.objects.filter(station__identity=identity, transaction__isnull=True,
                                     raw_value="12345").count() == 1


def test_many_stations_at_once_are_written_in_shared_batches(dashboard, connect_station):  # noqa: F811
    stations = [connect_station(f"CS-batch-{uuid.uuid4().hex[:8]}") for _ in range(12)]
    sessions = []
    for station in stations:
        transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
        sessions.append(transaction_id)
        station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="Authorized",
                                               charging_state="Charging", meter_wh=0, evse=1))
    jobs, batches, _ = ingest_counts(dashboard)
    failures = []

    def charge(station, transaction_id):
        try:
            for seq_no in range(1, 21):
                station.call("TransactionEvent", event("Updated", seq_no, seq_no * 10,
                                                       transaction_id, meter_wh=seq_no * 100))
        except Exception as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=charge, args=pair) for pair in zip(stations, sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    jobs_after, batches_after, _ = ingest_counts(dashboard)
    assert jobs_after - jobs >= 240
    # Twelve stations sending at once share commits: fewer batches than messages.
    assert batches_after - batches < jobs_after - jobs
    for transaction_id in sessions:
        row = Transaction.objects.get(transaction_id=transaction_id)
        assert row.energy_wh == Decimal("2000") and row.last_seq_no == 20 and row.event_count == 21
        assert row.last_event_at.isoformat().startswith(at(200)[:19])


def test_a_batch_shares_its_statements_and_a_changed_row_steps_aside_alone():
    """Readings of many stations in one batch: one compare-and-set, one event INSERT and one
    readings INSERT for all of them (PostgreSQL; SQLite, one compare-and-set each), and one read
    of the webhook subscriptions for all their events. A row the
    operator closed meanwhile fails its compare-and-set only: that job gets FALLBACK and writes
    nothing, the others are stored."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from csms.ocpp import ingest as group_commit
    from transactions import ingest

    sessions, transaction_ids = sessions_keeping_a_transaction(6, "CS-shared")
    closed = Transaction.objects.get(transaction_id=transaction_ids[2])
    actions.close_transaction(closed.pk, "operator", "cable stuck")

    jobs = [ingest.Reading(session, ingest.sampled_values(payload["meterValue"], "2.0.1"),
                           transaction_id=transaction_id, event=payload, evse_id=1, connector_id=1)
            for session, transaction_id in zip(sessions, transaction_ids)
            for payload in [event("Updated", 2, 120, transaction_id, meter_wh=200, evse=1)]]
    jobs.append(ingest.Reading(sessions[0], ingest.sampled_values(
        [{"timestamp": at(130), "sampledValue": [{"value": 5, "measurand": "Voltage"}]}],
        "2.0.1"), evse_id=0))  # readings of no transaction share the readings INSERT
    with CaptureQueriesContext(connection) as queries:
        outcomes = group_commit.run_batch(jobs)
    assert [ok for ok, _ in outcomes] == [True] * 7
    answers = [answer for _, answer in outcomes]
    assert answers[2] is ingest.FALLBACK and answers[:2] + answers[3:] == [{}] * 6
    statements = [query["sql"].replace('"', "") for query in queries.captured_queries]
    updates = [sql for sql in statements if sql.startswith("UPDATE transactions_transaction")]
    event_inserts = [sql for sql in statements if "INTO transactions_transactionevent" in sql]
    reading_inserts = [sql for sql in statements if "transactions_metervalue" in sql
                       and "INSERT" in sql]
    shared = connection.vendor == "postgresql"
    assert len(updates) == (1 if shared else 6)
    assert len(event_inserts) == 1 and len(reading_inserts) == (1 if shared else 2)
    # Six transaction.updated webhook events after the COMMIT, one read of the subscriptions.
    assert len([sql for sql in statements if "webhooksubscription" in sql]) == 1

    for index, transaction_id in enumerate(transaction_ids):
        row = Transaction.objects.get(transaction_id=transaction_id)
        if index == 2:
            assert row.state == "Ended" and row.event_count == 2 and row.events.count() == 2
        else:
            assert row.energy_wh == Decimal("200") and row.last_seq_no == 2
            assert row.events.count() == 3 and row.meter_values.count() == 3
            # the kept copy is the written row: the next reading continues from it
            assert sessions[index].data[ingest.KEPT][transaction_id].write_stamp == row.write_stamp
    assert MeterValue.objects.filter(station_id=sessions[0].station_pk,
                                     transaction__isnull=True, measurand="Voltage").count() == 1


def test_a_batch_asks_once_which_transactions_are_in_a_site():
    """Power readings of many transactions in one batch: one read of the transactions holding a
    site allocation for the whole batch; only the one in a site looks at its row (and records
    what it draws), the others stop there."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from csms.ocpp import ingest as group_commit
    from smartcharging.models import Site, SiteAllocation
    from transactions import ingest

    sessions, transaction_ids = sessions_keeping_a_transaction(4, "CS-site")
    transactions = [Transaction.objects.get(transaction_id=t) for t in transaction_ids]
    site = Site.objects.create(name=f"site-{uuid.uuid4().hex[:8]}")
    in_site = SiteAllocation.objects.create(site=site, station_id=transactions[0].station_id,
                                            evse_id=1, transaction=transactions[0], target=11000)

    def power_update(transaction, watts):
        payload = event("Updated", 2, 120, transaction.transaction_id, meter_wh=200, evse=1)
        payload["meterValue"][0]["sampledValue"].append(
            {"value": watts, "measurand": "Power.Active.Import"})
        return payload

    jobs = []
    for session, transaction in zip(sessions, transactions):
        payload = power_update(transaction, 7000)
        jobs.append(ingest.Reading(session, ingest.sampled_values(payload["meterValue"], "2.0.1"),
                                   transaction_id=transaction.transaction_id, event=payload,
                                   evse_id=1, connector_id=1))
    with CaptureQueriesContext(connection) as queries:
        outcomes = group_commit.run_batch(jobs)
    assert [answer for _, answer in outcomes] == [{}] * 4
    allocation_reads = [query["sql"] for query in queries.captured_queries
                        if "smartcharging_siteallocation" in query["sql"]
                        and query["sql"].lstrip().upper().startswith("SELECT")]
    # The batch's read of allocated transactions, then the row of the one in a site.
    assert len(allocation_reads) == 2, allocation_reads
    in_site.refresh_from_db()
    assert in_site.measured == 7000


def sessions_keeping_a_transaction(count, prefix):
    """`count` 2.0.1 sessions (no sockets), each keeping a running transaction after a Started
    and an Updated handled inline: their next readings can share a group-commit batch."""
    from csms.ocpp import inline
    from csms.ocpp.session import StationSession
    from stations.models import Station

    sessions, transaction_ids = [], []
    for _ in range(count):
        identity = f"{prefix}-{uuid.uuid4().hex[:8]}"
        station = Station.objects.create(identity=identity, ocpp_version="2.0.1")
        session = StationSession(identity=identity, ocpp_version="2.0.1", connection_id="batch",
                                 station_pk=station.pk, registration_status="Accepted")
        transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
        inline.handle(session, "TransactionEvent", event(
            "Started", 0, 0, transaction_id, trigger="Authorized", charging_state="Charging",
            meter_wh=0, evse=1))
        inline.handle(session, "TransactionEvent", event("Updated", 1, 60, transaction_id,
                                                         meter_wh=100))  # now kept
        sessions.append(session)
        transaction_ids.append(transaction_id)
    return sessions, transaction_ids
