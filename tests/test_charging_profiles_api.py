"""Charging profiles over the API and real stations (2.0.1 and 1.6): validation with every reason,
push and the station's answer, replacement, clearing by id and by criteria, composite schedule."""
import uuid

from smartcharging.models import ChargingProfile
from tests.devicemodel_helpers import report_item, seed_inventory
from tests.helpers import eventually
from tests.transactions_helpers import event, new_token, start_16


def schedule(*periods, unit="A", **extra):
    return {"chargingRateUnit": unit, **extra, "chargingSchedulePeriod": [
        {"startPeriod": start, "limit": limit} for start, limit in periods]}


def profile(identity, purpose="TxDefaultProfile", evse_id=1, stack_level=0, kind="Absolute",
            schedules=None, **extra):
    return {"station": identity, "evse_id": evse_id, "stack_level": stack_level,
            "purpose": purpose, "kind": kind, "wait": 20,
            "schedules": schedules or [schedule((0, 32), (3600, 16),
                                                startSchedule="2026-03-01T08:00:00Z")], **extra}


def state_of(profile_pk):
    return ChargingProfile.objects.get(pk=profile_pk).state


def test_every_reason_is_listed_201(connect_station, identity, api):
    connect_station(identity)
    body = profile(identity, purpose="ChargingStationMaxProfile", evse_id=2, schedules=[
        schedule((10, 32), (5, -1)), schedule((0, 16), unit="V"), schedule((0, 1)),
        schedule((0, 2))])
    response = api.post("/charging-profiles/", json=body)
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    expected = ["evse_id must be 0", "first period must start at 0", "does not come after 10",
                "limit must be ≥ 0", "chargingRateUnit must be A or W", "at most three schedules"]
    for reason in expected:
        assert any(reason in error for error in errors), (reason, errors)
    assert not ChargingProfile.objects.filter(station__identity=identity).exists()


def test_purpose_rules(connect_station, identity, api):
    connect_station(identity)
    external = api.post("/charging-profiles/", json=profile(
        identity, purpose="ChargingStationExternalConstraints"))
    assert external.status_code == 400
    assert "never by the CSMS" in external.json()["detail"]
    tx = api.post("/charging-profiles/", json=profile(identity, purpose="TxProfile", evse_id=1))
    assert tx.status_code == 400
    assert tx.json()["errors"] == ["TxProfile needs a running transaction on EVSE 1; there is none"]
    recurring = api.post("/charging-profiles/", json=profile(identity, kind="Recurring",
                                                             schedules=[schedule((0, 10))]))
    assert recurring.status_code == 400
    assert len(recurring.json()["errors"]) == 2  # no recurrency kind, no startSchedule


def test_16_rules(connect_station, identity, api):
    connect_station(identity, "1.6")
    two = schedule((0, 10))
    two["chargingSchedulePeriod"][0].update(numberPhases=1, phaseToUse=1)
    response = api.post("/charging-profiles/", json=profile(identity, schedules=[two, schedule((0, 5))]))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any("exactly one schedule" in error for error in errors), errors
    assert any("no phaseToUse" in error for error in errors), errors


def test_station_limits_from_the_device_model(connect_station, identity, api):
    station = connect_station(identity)
    seed_inventory(api, station, [
        report_item("SmartChargingCtrlr", "PeriodsPerSchedule", "2"),
        report_item("SmartChargingCtrlr", "ProfileStackLevel", "3"),
        report_item("SmartChargingCtrlr", "Entries", "1", variable_instance="ChargingProfiles"),
        report_item("SmartChargingCtrlr", "RateUnit", "A", data_type="MemberList"),
    ])
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    too_much = api.post("/charging-profiles/", json=profile(
        identity, stack_level=4, schedules=[schedule((0, 1), (60, 2), (120, 3), unit="W")]))
    assert too_much.status_code == 400
    errors = too_much.json()["errors"]
    assert any("at most 2 per schedule" in error for error in errors), errors
    assert any("above the station's maximum 3" in error for error in errors), errors
    assert any("only A limits" in error for error in errors), errors
    first = api.post("/charging-profiles/", json=profile(identity, stack_level=1))
    assert first.status_code == 201 and first.json()["state"] == "installed"
    # The station holds one profile at most; one that replaces it still fits.
    second = api.post("/charging-profiles/", json=profile(identity, stack_level=2))
    assert second.status_code == 400 and "takes at most 1" in second.json()["detail"]
    same_slot = api.post("/charging-profiles/", json=profile(identity, stack_level=1))
    assert same_slot.status_code == 201, same_slot.text


def test_pushed_accepted_installed_201(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    response = api.post("/charging-profiles/", json=profile(
        identity, purpose="ChargingStationMaxProfile", evse_id=0, charging_profile_id=77,
        valid_to="2027-01-01T00:00:00Z"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "installed" and body["command"]["status"] == "accepted"
    sent = body["command"]["payload"]
    assert sent["evseId"] == 0
    assert sent["chargingProfile"]["id"] == 77
    assert sent["chargingProfile"]["chargingProfilePurpose"] == "ChargingStationMaxProfile"
    assert sent["chargingProfile"]["validTo"] == "2027-01-01T00:00:00Z"
    assert sent["chargingProfile"]["chargingSchedule"][0]["id"] == 1
    listed = api.get("/charging-profiles/", params={"station": identity, "state": "installed"})
    assert [row["id"] for row in listed.json()["results"]] == [body["id"]]


def test_pushed_rejected_16(connect_station, identity, api):
    station = connect_station(identity, "1.6")
    station.answers["SetChargingProfile"] = {"status": "Rejected"}
    response = api.post("/charging-profiles/", json=profile(
        identity, purpose="ChargingStationMaxProfile", evse_id=0))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "rejected"
    sent = body["command"]["payload"]
    assert sent["connectorId"] == 0
    assert sent["csChargingProfiles"]["chargingProfilePurpose"] == "ChargePointMaxProfile"
    assert sent["csChargingProfiles"]["chargingProfileId"] == body["charging_profile_id"]
    assert "id" not in sent["csChargingProfiles"]["chargingSchedule"]


def test_answer_applied_without_waiting(connect_station, identity, api):
    station = connect_station(identity)
    station.auto_answer = False
    response = api.post("/charging-profiles/", json={**profile(identity), "wait": 0})
    assert response.status_code == 201 and response.json()["state"] == "pending"
    message_id, action, _ = station.next_call()
    assert action == "SetChargingProfile"
    station.reply(message_id, {"status": "Accepted"})
    eventually(lambda: state_of(response.json()["id"]) == "installed")


def test_tx_profile_and_replacement_201(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="Authorized",
                                           token=new_token(), evse=1))
    old = api.post("/charging-profiles/", json=profile(identity, purpose="TxProfile", stack_level=2))
    assert old.status_code == 201, old.text
    assert old.json()["command"]["payload"]["chargingProfile"]["transactionId"] == transaction_id
    assert old.json()["transaction_id"] == transaction_id
    other = api.post("/charging-profiles/", json=profile(identity, purpose="TxProfile", stack_level=3))
    new = api.post("/charging-profiles/", json=profile(identity, purpose="TxProfile", stack_level=2))
    assert new.json()["state"] == "installed"
    replaced = ChargingProfile.objects.get(pk=old.json()["id"])
    assert replaced.state == "replaced" and replaced.replaced_by_id == new.json()["id"]
    assert state_of(other.json()["id"]) == "installed"


def test_replacement_waits_for_acceptance_16(connect_station, identity, api):
    station = connect_station(identity, "1.6")
    station.call("StartTransaction", start_16(1, new_token(), 0, 0))
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    old = api.post("/charging-profiles/", json=profile(identity, purpose="TxProfile"))
    assert old.status_code == 201, old.text
    assert isinstance(old.json()["command"]["payload"]["csChargingProfiles"]["transactionId"], int)
    station.answers["SetChargingProfile"] = {"status": "Rejected"}
    refused = api.post("/charging-profiles/", json=profile(identity, purpose="TxProfile"))
    assert refused.json()["state"] == "rejected"
    assert state_of(old.json()["id"]) == "installed"


def test_clear_by_id_201(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    station.answers["ClearChargingProfile"] = {"status": "Accepted"}
    pushed = api.post("/charging-profiles/", json=profile(identity)).json()
    cleared = api.request("DELETE", f"/charging-profiles/{pushed['id']}/", json={"wait": 20})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["payload"] == {"chargingProfileId": pushed["charging_profile_id"]}
    assert state_of(pushed["id"]) == "cleared"
    again = api.delete(f"/charging-profiles/{pushed['id']}/")
    assert again.status_code == 400 and "cleared" in again.json()["detail"]


def test_clear_refused_keeps_the_profile_16(connect_station, identity, api):
    station = connect_station(identity, "1.6")
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    station.answers["ClearChargingProfile"] = {"status": "Unknown"}
    pushed = api.post("/charging-profiles/", json=profile(identity)).json()
    cleared = api.request("DELETE", f"/charging-profiles/{pushed['id']}/", json={"wait": 20})
    assert cleared.json()["payload"] == {"id": pushed["charging_profile_id"]}
    assert cleared.json()["status"] == "rejected"
    assert state_of(pushed["id"]) == "installed"


def test_clear_by_criteria(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    station.answers["ClearChargingProfile"] = {"status": "Accepted"}
    low = api.post("/charging-profiles/", json=profile(identity, stack_level=1)).json()
    high = api.post("/charging-profiles/", json=profile(identity, stack_level=2)).json()
    station_max = api.post("/charging-profiles/", json=profile(
        identity, purpose="ChargingStationMaxProfile", evse_id=0, stack_level=1)).json()
    response = api.post("/charging-profiles/clear/", json={
        "station": identity, "purpose": "TxDefaultProfile", "stack_level": 1, "wait": 20})
    assert response.status_code == 201, response.text
    assert response.json()["payload"] == {"chargingProfileCriteria": {
        "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1}}
    assert state_of(low["id"]) == "cleared"
    assert state_of(high["id"]) == "installed" and state_of(station_max["id"]) == "installed"
    everything = api.post("/charging-profiles/clear/", json={"station": identity, "evse_id": 1,
                                                             "wait": 20})
    assert everything.json()["payload"] == {"chargingProfileCriteria": {"evseId": 1}}
    assert state_of(high["id"]) == "cleared" and state_of(station_max["id"]) == "installed"


def test_composite_schedule_answer_stored(connect_station, identity, api):
    station = connect_station(identity)
    answer = {"status": "Accepted", "schedule": {
        "evseId": 1, "duration": 600, "scheduleStart": "2026-03-01T08:00:00Z",
        "chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400}]}}
    station.answers["GetCompositeSchedule"] = answer
    response = api.post("/charging-profiles/composite-schedule/", json={
        "station": identity, "evse_id": 1, "duration": 600, "charging_rate_unit": "W", "wait": 20})
    assert response.status_code == 201, response.text
    assert response.json()["payload"] == {"duration": 600, "evseId": 1, "chargingRateUnit": "W"}
    assert api.get(f"/commands/{response.json()['id']}/").json()["response"] == answer


def test_composite_schedule_16(connect_station, identity, api):
    station = connect_station(identity, "1.6")
    station.answers["GetCompositeSchedule"] = {"status": "Rejected"}
    response = api.post("/charging-profiles/composite-schedule/", json={
        "station": identity, "evse_id": 2, "duration": 60, "wait": 20})
    assert response.json()["payload"] == {"duration": 60, "connectorId": 2}
    assert response.json()["status"] == "rejected"


def test_unknown_station_and_never_connected(api, identity):
    missing = api.post("/charging-profiles/", json=profile(identity))
    assert missing.status_code == 400 and "station" in missing.json()["errors"]
    from stations.models import Station

    Station.objects.create(identity=identity)
    never = api.post("/charging-profiles/", json=profile(identity))
    assert never.status_code == 409 and "never connected" in never.json()["detail"]


def test_profiles_expire(connect_station, identity, api):
    from datetime import timedelta

    from django.utils import timezone

    from smartcharging import actions
    from transactions.models import Transaction

    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="Authorized",
                                           token=new_token(), evse=1))
    tx_profile = api.post("/charging-profiles/", json=profile(identity, purpose="TxProfile")).json()
    soon = (timezone.now() + timedelta(seconds=1)).isoformat()
    short = api.post("/charging-profiles/", json=profile(identity, valid_to=soon)).json()
    lasting = api.post("/charging-profiles/", json=profile(identity, stack_level=5)).json()
    assert {tx_profile["state"], short["state"], lasting["state"]} == {"installed"}
    station.call("TransactionEvent", event("Ended", 1, 60, transaction_id, trigger="StopAuthorized",
                                           stoppedReason="Local"))
    eventually(lambda: Transaction.objects.get(station__identity=identity).state == "Ended")
    eventually(lambda: actions.sweep_profiles() and state_of(short["id"]) == "expired")
    assert state_of(tx_profile["id"]) == "expired"
    assert state_of(lasting["id"]) == "installed"
