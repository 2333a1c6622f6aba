"""A station that lost its charging profiles gets them back after a (re)boot: 2.0.1 is asked what it
holds and the missing live ones re-sent; 1.6 gets every live one; never expired ones, TxProfiles of
ended transactions, or what the site allocator manages."""
import uuid
from datetime import timedelta

from django.utils import timezone

from csms.models import Command
from smartcharging.models import ChargingProfile, Site, SiteMember
from stations.models import Station
from tests.helpers import calls_before_marker, eventually
from tests.transactions_helpers import event, new_token

RESTORE = "reboot-restore"


def push(api, identity, purpose, evse_id, stack_level=0):
    response = api.post("/charging-profiles/", json={
        "station": identity, "evse_id": evse_id, "stack_level": stack_level, "purpose": purpose,
        "kind": "Relative", "wait": 20, "schedules": [{
            "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}]})
    assert response.status_code == 201 and response.json()["state"] == "installed", response.text
    return ChargingProfile.objects.get(pk=response.json()["id"])


def as_reported(profile):
    return {"id": profile.charging_profile_id, "stackLevel": profile.stack_level,
            "chargingProfilePurpose": profile.purpose, "chargingProfileKind": profile.kind,
            "chargingSchedule": profile.schedules}


def reboot(connect_station, identity, version="2.0.1", **answers):
    """The station comes back (new socket, BootNotification), answering as told."""
    station = connect_station(identity, version, boot=False)
    station.answers.update({"SetChargingProfile": {"status": "Accepted"}, **answers})
    assert station.boot()["status"] == "Accepted"
    return station


def profile_id(payload):
    if "chargingProfile" in payload:
        return payload["chargingProfile"].get("id")  # GetChargingProfiles has criteria here
    return payload.get("csChargingProfiles", {}).get("chargingProfileId")


def restored(identity):
    """(action, profile id) of every command the restore sent."""
    return sorted((command.action, profile_id(command.payload))
                  for command in Command.objects.filter(identity=identity, source=RESTORE))


def next_call_of(station, action):
    """The next call of this action (other features may talk to a booting station too)."""
    while True:
        message_id, received, payload = station.next_call()
        if received == action:
            return payload


def state_of(profile):
    return ChargingProfile.objects.get(pk=profile.pk).state


def test_missing_profiles_resent_after_report_201(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    kept = push(api, identity, "ChargingStationMaxProfile", 0)
    lost = push(api, identity, "TxDefaultProfile", 1)
    expired = push(api, identity, "TxDefaultProfile", 1, stack_level=1)
    ChargingProfile.objects.filter(pk=expired.pk).update(
        valid_to=timezone.now() - timedelta(minutes=1))
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event("Started", 0, 0, transaction_id, trigger="Authorized",
                                           token=new_token(), evse=1))
    ended_tx = push(api, identity, "TxProfile", 1)
    station.call("TransactionEvent", event("Ended", 1, 60, transaction_id, trigger="EVDeparted",
                                           stoppedReason="EVDisconnected"))
    station.close()

    station = reboot(connect_station, identity, GetChargingProfiles={"status": "Accepted"})
    payload = next_call_of(station, "GetChargingProfiles")
    assert payload["chargingProfile"] == {}
    station.call("ReportChargingProfiles", {
        "requestId": payload["requestId"], "chargingLimitSource": "CSO", "evseId": 0,
        "chargingProfile": [as_reported(kept)]})
    payload = next_call_of(station, "SetChargingProfile")
    assert payload["evseId"] == 1
    assert payload["chargingProfile"]["id"] == lost.charging_profile_id
    eventually(lambda: state_of(lost) == "installed")
    calls_before_marker(api, station)
    assert restored(identity) == [("GetChargingProfiles", None),
                                  ("SetChargingProfile", lost.charging_profile_id)]
    assert state_of(kept) == "installed"
    assert state_of(expired) in ("cleared", "expired") and state_of(ended_tx) in ("cleared", "expired")
    listed = api.get(f"/stations/{identity}/commands/").json()["results"]
    assert {row["source"] for row in listed if row["action"] == "SetChargingProfile"} >= {RESTORE}


def test_no_profiles_resends_all_and_nothing_without_profiles(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    one = push(api, identity, "ChargingStationMaxProfile", 0)
    two = push(api, identity, "TxDefaultProfile", 1)
    station.close()
    station = reboot(connect_station, identity, GetChargingProfiles={"status": "NoProfiles"})
    eventually(lambda: state_of(one) == state_of(two) == "installed"
               and len(restored(identity)) == 3)
    assert restored(identity) == sorted([("GetChargingProfiles", None),
                                         ("SetChargingProfile", one.charging_profile_id),
                                         ("SetChargingProfile", two.charging_profile_id)])
    # A station the CSMS tracks no live profile for is not asked.
    other = f"CS-{uuid.uuid4().hex[:10]}"
    fresh = connect_station(other)
    fresh.close()
    fresh = reboot(connect_station, other)
    calls_before_marker(api, fresh)
    assert restored(other) == []


def test_live_profiles_resent_16(connect_station, identity, api):
    station = connect_station(identity, "1.6")
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    station_max = push(api, identity, "ChargingStationMaxProfile", 0)
    default = push(api, identity, "TxDefaultProfile", 1)
    station.close()
    station = reboot(connect_station, identity, "1.6")
    sent = {}
    for _ in range(2):
        payload = next_call_of(station, "SetChargingProfile")
        sent[payload["csChargingProfiles"]["chargingProfileId"]] = payload
    assert set(sent) == {station_max.charging_profile_id, default.charging_profile_id}
    assert sent[station_max.charging_profile_id]["csChargingProfiles"][
        "chargingProfilePurpose"] == "ChargePointMaxProfile"
    eventually(lambda: state_of(station_max) == state_of(default) == "installed")
    assert len(restored(identity)) == 2


def test_site_members_keep_only_their_own_16(connect_station, identity, api):
    station = connect_station(identity, "1.6")
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    station_max = push(api, identity, "ChargingStationMaxProfile", 0)
    push(api, identity, "TxDefaultProfile", 1)
    site = Site.objects.create(name=f"site-{uuid.uuid4().hex[:8]}", enabled=False,
                               limit_periods=[{"startPeriod": 0, "limit": 50000}])
    SiteMember.objects.create(site=site, station=Station.objects.get(identity=identity))
    station.close()
    station = reboot(connect_station, identity, "1.6")
    calls_before_marker(api, station)
    # The TxDefaultProfile is the site allocator's to re-install, not the restore's.
    assert restored(identity) == [("SetChargingProfile", station_max.charging_profile_id)]
