"""Remote start with a charging profile (K05): a TxProfile checked like any profile, sent in
RequestStartTransaction / RemoteStartTransaction, tracked pending → installed (or rejected) and
linked to the transaction the start begins."""
import uuid

from smartcharging.models import ChargingProfile
from tests.helpers import eventually
from tests.transactions_helpers import event, new_token, start_16
from transactions.models import RemoteStart, Transaction

TX_PROFILE = {"stack_level": 1, "kind": "Relative", "schedules": [{
    "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10},
                                                        {"startPeriod": 900, "limit": 20}]}]}


def start(api, identity, token, **body):
    return api.post(f"/stations/{identity}/start-transaction/",
                    json={"id_token": token.id_token, "evse_id": 1, "wait": 20,
                          "charging_profile": TX_PROFILE, **body})


def tracked(identity):
    return ChargingProfile.objects.get(station__identity=identity)


def test_profile_sent_installed_and_linked_201(connect_station, identity, api):
    token = new_token()
    station = connect_station(identity)
    station.answers["RequestStartTransaction"] = {"status": "Accepted"}
    response = start(api, identity, token)
    assert response.status_code == 201, response.text
    command = response.json()
    sent = command["payload"]["chargingProfile"]
    profile = tracked(identity)
    assert sent["chargingProfilePurpose"] == "TxProfile" and "transactionId" not in sent
    assert sent["id"] == profile.charging_profile_id and sent["stackLevel"] == 1
    assert sent["chargingSchedule"][0]["id"] == 1
    assert profile.command_id == command["id"] and profile.evse_id == 1
    eventually(lambda: tracked(identity).state == "installed")
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event(
        "Started", 0, 0, transaction_id, trigger="RemoteStart", token=token, evse=1,
        remoteStartId=command["payload"]["remoteStartId"]))
    row = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id)
    eventually(lambda: tracked(identity).transaction_id == row.pk)
    # The CSMS's composite now follows it: relative to the transaction start.
    composite = api.get(f"/stations/{identity}/composite-schedule/",
                        params={"evse": 1, "start": "2026-03-01T08:00:00Z", "duration": 1800})
    assert [(p["start_period"], p["limit"]) for p in composite.json()["periods"]] == [
        (0, 10), (900, 20)]


def test_profile_sent_and_linked_16(connect_station, identity, api):
    token = new_token()
    station = connect_station(identity, "1.6")
    station.answers["RemoteStartTransaction"] = {"status": "Accepted"}
    command = start(api, identity, token).json()
    sent = command["payload"]["chargingProfile"]
    assert sent["chargingProfileId"] == tracked(identity).charging_profile_id
    assert sent["chargingProfilePurpose"] == "TxProfile" and "transactionId" not in sent
    assert "id" not in sent["chargingSchedule"]
    assert command["payload"]["connectorId"] == 1
    eventually(lambda: tracked(identity).state == "installed")
    started = station.call("StartTransaction", start_16(1, token, 0, 0))
    row = Transaction.objects.get(station__identity=identity,
                                  transaction_id=str(started["transactionId"]))
    eventually(lambda: tracked(identity).transaction_id == row.pk)


def test_rejected_start_rejects_the_profile(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["RequestStartTransaction"] = {"status": "Rejected"}
    command = start(api, identity, new_token()).json()
    assert command["status"] == "rejected"
    eventually(lambda: tracked(identity).state == "rejected")


def test_invalid_profile_is_a_400_and_nothing_is_sent(connect_station, identity, api):
    connect_station(identity, "1.6")
    token = new_token()
    bad = {**TX_PROFILE, "schedules": [{"chargingRateUnit": "V", "chargingSchedulePeriod": [
        {"startPeriod": 5, "limit": -1}]}]}
    response = start(api, identity, token, charging_profile=bad)
    assert response.status_code == 400, response.text
    text = response.text
    assert "chargingRateUnit must be A or W" in text and "must start at 0" in text, text
    no_evse = api.post(f"/stations/{identity}/start-transaction/", json={
        "id_token": token.id_token, "charging_profile": TX_PROFILE})
    assert no_evse.status_code == 400 and "evse_id" in no_evse.text
    assert not ChargingProfile.objects.filter(station__identity=identity).exists()
    assert not RemoteStart.objects.filter(station__identity=identity).exists()


def test_profile_of_a_start_that_never_came_expires(connect_station, identity, api):
    from datetime import timedelta

    from django.utils import timezone

    from csms.models import Command
    from smartcharging.actions.remote_start_profiles import expire_unstarted

    station = connect_station(identity)
    station.answers["RequestStartTransaction"] = {"status": "Accepted"}
    command = start(api, identity, new_token()).json()
    eventually(lambda: tracked(identity).state == "installed")
    expire_unstarted()
    assert tracked(identity).state == "installed"  # still within the remote-start window
    Command.objects.filter(pk=command["id"]).update(
        finished_at=timezone.now() - timedelta(hours=1))
    expire_unstarted()
    assert tracked(identity).state == "expired"
