"""ConcurrentTx: answered only to a start (2.0.1 Started, 1.6 StartTransaction), never to
Authorize, Updated or Ended / StopTransaction; a refused start is stored but never blocks its
token, even when the station goes away without ending it."""
import uuid

import pytest

from tests.transactions_helpers import event, new_token, start_16, stop_16
from transactions.models import Transaction


def start(station, token, connector_id=1):
    """Start a transaction; (status answered, the stored row)."""
    if station.version == "1.6":
        answer = station.call("StartTransaction", start_16(connector_id, token, 0, 0))
        transaction_id = str(answer["transactionId"])
        status = answer["idTagInfo"]["status"]
    else:
        transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
        answer = station.call("TransactionEvent", event(
            "Started", 0, 0, transaction_id, trigger="Authorized", token=token, evse=connector_id,
            meter_wh=0, charging_state="Charging"))
        status = answer["idTokenInfo"]["status"]
    return status, Transaction.objects.get(station__identity=station.identity,
                                           transaction_id=transaction_id)


def end(station, row, token=None, seq_no=1):
    if station.version == "1.6":
        extra = {"idTag": token.id_token} if token else {}
        return station.call("StopTransaction", stop_16(int(row.transaction_id), 100, 60, **extra))
    return station.call("TransactionEvent", event(
        "Ended", seq_no, 60, row.transaction_id, trigger="StopAuthorized", token=token, meter_wh=100,
        stoppedReason="Local"))


def authorize(station, token):
    if station.version == "1.6":
        return station.call("Authorize", {"idTag": token.id_token})["idTagInfo"]["status"]
    return station.call("Authorize", {"idToken": {"idToken": token.id_token,
                                                  "type": token.type}})["idTokenInfo"]["status"]


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_refused_start_never_blocks_its_token(connect_station, identity, version, api):
    token = new_token()
    first = connect_station(f"{identity}-a", version)
    status, charging = start(first, token)
    assert status == "Accepted" and charging.authorization_status == "Accepted"

    # The same token starts elsewhere: ConcurrentTx; the station may charge anyway (stored).
    second = connect_station(f"{identity}-b", version)
    status, refused = start(second, token)
    assert status == "ConcurrentTx"
    assert refused.state == "Active" and refused.authorization_status == "ConcurrentTx"
    assert refused.refused and refused.id_token_id == token.pk
    shown = api.get(f"/transactions/{refused.pk}/").json()
    assert shown["refused"] is True and shown["authorization_status"] == "ConcurrentTx"
    assert api.get(f"/transactions/{charging.pk}/").json()["refused"] is False

    # The second station goes away without ever ending it; the first ends its own.
    second.close()
    end(first, charging)
    # The refused one is still stored Active, and does not count as the token's transaction.
    assert Transaction.objects.get(pk=refused.pk).state == "Active"
    third = connect_station(f"{identity}-c", version)
    status, accepted = start(third, token)
    assert status == "Accepted" and not accepted.refused


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_concurrent_tx_only_answers_a_start(connect_station, identity, version):
    token = new_token()
    relaxed = new_token(allow_concurrent_transactions=True)
    station = connect_station(identity, version)
    _, charging = start(station, token)
    assert start(station, relaxed, connector_id=2)[0] == "Accepted"

    other = connect_station(f"{identity}-other", version)
    # Authorize: "only relevant for" the start in both versions' AuthorizationStatus.
    assert authorize(other, token) == "Accepted"
    status, refused = start(other, token)
    assert status == "ConcurrentTx"
    assert start(other, relaxed, connector_id=2)[0] == "Accepted"

    if version == "2.0.1":
        # An Updated carrying the token (e.g. re-presented) is not a start either.
        updated = other.call("TransactionEvent", event(
            "Updated", 1, 30, refused.transaction_id, trigger="Authorized", token=token))
        assert updated["idTokenInfo"]["status"] == "Accepted"
    # Stopping with the token, while its other transaction still runs: never ConcurrentTx.
    stopped = end(other, refused, token=token, seq_no=2)
    info = stopped["idTagInfo"] if version == "1.6" else stopped["idTokenInfo"]
    assert info["status"] == "Accepted"
    ended = Transaction.objects.get(pk=refused.pk)
    assert ended.state == "Ended" and ended.authorization_status == "ConcurrentTx"
    assert Transaction.objects.get(pk=charging.pk).state == "Active"
