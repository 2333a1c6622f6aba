"""TRANSACTIONS_UNKNOWN_ID_TOKEN_POLICY=accept: unknown tokens are accepted and recorded."""
import uuid

import pytest

from tests.conftest import ServerProcess
from transactions.models import IdToken, Transaction


@pytest.fixture(scope="module")
def accepting_server(csms):
    server = ServerProcess("server-accepting-tokens",
                           {"TRANSACTIONS_UNKNOWN_ID_TOKEN_POLICY": "accept"}).start()
    yield server
    server.stop()


def test_unknown_tokens_are_accepted_and_recorded(connect_station, identity, accepting_server):
    value = f"NEW{uuid.uuid4().hex[:8]}"
    station = connect_station(identity, "1.6", server=accepting_server)
    assert station.call("Authorize", {"idTag": value})["idTagInfo"]["status"] == "Accepted"
    recorded = IdToken.objects.get(id_token=value)
    assert recorded.seen_first_at_station and recorded.status == "Accepted"

    card = f"RFID{uuid.uuid4().hex[:8]}"
    station_201 = connect_station(f"{identity}-201", server=accepting_server)
    answer = station_201.call("TransactionEvent", {
        "eventType": "Started", "timestamp": "2026-03-01T08:00:00Z", "triggerReason": "Authorized",
        "seqNo": 0, "transactionInfo": {"transactionId": "t1"},
        "idToken": {"idToken": card, "type": "ISO15693"}})
    assert answer["idTokenInfo"]["status"] == "Accepted"
    token = IdToken.objects.get(id_token=card, type="ISO15693")
    assert Transaction.objects.get(station__identity=f"{identity}-201").id_token == token
