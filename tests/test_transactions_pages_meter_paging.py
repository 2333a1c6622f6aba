"""The transaction page's meter table over HTTP: its queries do not grow with the session, and
a page number out of range or not a number shows a page instead of failing."""
import uuid

from tests.meter_series import send_long_session
from tests.transactions_helpers import new_token
from transactions.models import Transaction


def test_table_queries_do_not_grow_with_the_session(operator_client, connect_station, identity):
    """The page reads a page of timestamps, not every sampled value (the chart reads them once)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    station = connect_station(identity)
    counts = []
    for steps in (20, 220):
        transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
        send_long_session(station, transaction_id, new_token(), steps)
        pk = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id).pk
        with CaptureQueriesContext(connection) as queries:
            answer = operator_client.get(f"/transactions/{pk}/", {"meter_page": 2})
        assert answer.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_meter_page_out_of_range_shows_the_last(operator_client, connect_station, identity):
    station = connect_station(identity)
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    send_long_session(station, transaction_id, new_token(), 3)
    pk = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id).pk
    for meter_page in ("999", "nope", "-1"):
        answer = operator_client.get(f"/transactions/{pk}/", {"meter_page": meter_page})
        assert answer.status_code == 200
        assert b"<td>2026-03-01 08:00:00</td>" in answer.content
        assert b"<td>2026-03-01 08:00:20</td>" in answer.content
