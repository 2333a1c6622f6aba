"""Remote start and stop as typed operations choosing the message for the station's version;
remoteStartId (2.0.1) or the idTag (1.6) links the request to the transaction that follows."""
import uuid

from stations.models import Station
from tests.helpers import calls_before_marker, eventually
from tests.transactions_helpers import event, new_token, start_16
from transactions.models import RemoteStart, Transaction


def test_remote_start_and_stop_201(connect_station, identity, api):
    group = new_token("GRP", type="Central")
    token = new_token(group=group)
    station = connect_station(identity)
    station.answers["RequestStartTransaction"] = {"status": "Accepted"}
    station.answers["RequestStopTransaction"] = {"status": "Accepted"}
    response = api.post(f"/stations/{identity}/start-transaction/",
                        json={"id_token": token.id_token, "evse_id": 1, "wait": 20})
    assert response.status_code == 201, response.text
    command = response.json()
    assert command["action"] == "RequestStartTransaction" and command["status"] == "accepted"
    remote_start_id = command["payload"]["remoteStartId"]
    assert command["payload"]["idToken"] == {"idToken": token.id_token, "type": token.type}
    assert command["payload"]["groupIdToken"]["idToken"] == group.id_token
    assert command["payload"]["evseId"] == 1

    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="RemoteStart",
                                           token=token, evse=1, remoteStartId=remote_start_id))
    row = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id)
    assert row.remote_start_id == remote_start_id
    remote_start = eventually(lambda: RemoteStart.objects.filter(
        pk=remote_start_id, settled=True).first())
    assert remote_start.transaction_id == row.pk and remote_start.status == "Accepted"

    stop = api.post(f"/stations/{identity}/stop-transaction/", json={"wait": 20}).json()
    assert stop["action"] == "RequestStopTransaction" and stop["status"] == "accepted"
    assert stop["payload"] == {"transactionId": transaction_id}


def test_remote_start_and_stop_16(connect_station, identity, api):
    token = new_token()
    station = connect_station(identity, "1.6")
    station.answers["RemoteStartTransaction"] = {"status": "Accepted"}
    station.answers["RemoteStopTransaction"] = {"status": "Accepted"}
    command = api.post(f"/stations/{identity}/start-transaction/",
                       json={"id_token": token.id_token, "evse_id": 2, "wait": 20}).json()
    assert command["action"] == "RemoteStartTransaction"
    assert command["payload"] == {"idTag": token.id_token, "connectorId": 2}
    started = station.call("StartTransaction", start_16(2, token, 100, 0))
    row = Transaction.objects.get(station__identity=identity,
                                  transaction_id=str(started["transactionId"]))
    remote_start = RemoteStart.objects.get(station__identity=identity)
    assert row.remote_start_id == remote_start.pk
    assert eventually(lambda: RemoteStart.objects.get(pk=remote_start.pk).transaction_id) == row.pk

    stop = api.post(f"/stations/{identity}/stop-transaction/",
                    json={"transaction_id": str(started["transactionId"]), "wait": 20}).json()
    assert stop["action"] == "RemoteStopTransaction"
    assert stop["payload"] == {"transactionId": started["transactionId"]}
    assert stop["status"] == "accepted"


def test_remote_operations_refuse_bad_requests(connect_station, identity, api):
    station = connect_station(identity, "1.6")
    unknown = api.post(f"/stations/{identity}/start-transaction/", json={"id_token": "NO-SUCH-TAG"})
    assert unknown.status_code == 400 and "NO-SUCH-TAG" in unknown.json()["detail"]
    bad_id = api.post(f"/stations/{identity}/stop-transaction/", json={"transaction_id": "abc"})
    assert bad_id.status_code == 400 and "integer" in bad_id.json()["detail"]
    nothing_running = api.post(f"/stations/{identity}/stop-transaction/", json={})
    assert nothing_running.status_code == 400 and "transaction_id" in nothing_running.json()["detail"]
    Station.objects.create(identity=f"{identity}-never")
    never = api.post(f"/stations/{identity}-never/start-transaction/",
                     json={"id_token": new_token().id_token})
    assert never.status_code == 409 and "never connected" in never.json()["detail"]
    assert calls_before_marker(api, station) == []
