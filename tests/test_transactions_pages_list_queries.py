"""The transactions list's query budget: its rows, page count and totals (one aggregate) cost the
same number of queries for 1 transaction under the filter as for 6."""
import re
import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.transactions_helpers import event, new_token


def test_list_and_totals_queries_do_not_grow(operator_client, connect_station, identity):
    station = connect_station(identity)
    token = new_token()
    counts, shown = [], []
    for sessions in (1, 5):
        for number in range(sessions):
            transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
            station.call("TransactionEvent", event("Started", 0, number * 3600, transaction_id,
                                                   trigger="Authorized", token=token, meter_wh=0, evse=1))
            station.call("TransactionEvent", event("Ended", 1, number * 3600 + 600, transaction_id,
                                                   meter_wh=500, stoppedReason="Local"))
        for partial in ("", "totals", "1"):
            with CaptureQueriesContext(connection) as queries:
                answer = operator_client.get("/transactions/", {
                    "station": identity, "date_from": "2026-03-01", "partial": partial})
            assert answer.status_code == 200
            counts.append((partial, len(queries)))
            if partial == "totals":
                shown.append(re.search(r'data-count="(\d+)"', answer.content.decode()).group(1))
    assert shown == ["1", "6"]
    assert counts[:3] == counts[3:], counts
