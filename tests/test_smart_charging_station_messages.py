"""What 2.0.1 stations send about smart charging: ReportChargingProfiles parts reconciled with the
tracked profiles, NotifyChargingLimit / ClearedChargingLimit, EV charging needs and schedules."""
from smartcharging.models import ChargingLimit, ChargingProfile, EVChargingNeeds, EVChargingSchedule
from tests.helpers import eventually


def reported(profile_id, stack_level, purpose="TxDefaultProfile"):
    return {"id": profile_id, "stackLevel": stack_level, "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Relative", "chargingSchedule": [{
                "id": 1, "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}]}


def push(api, identity, stack_level, purpose="TxDefaultProfile", evse_id=1):
    response = api.post("/charging-profiles/", json={
        "station": identity, "evse_id": evse_id, "stack_level": stack_level, "purpose": purpose,
        "kind": "Relative", "wait": 20, "schedules": [
            {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}]}]})
    assert response.status_code == 201, response.text
    return response.json()


def test_report_reconciles_what_the_station_holds(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    kept = push(api, identity, 1)
    lost = push(api, identity, 2)
    station.answers["GetChargingProfiles"] = {"status": "Accepted"}
    response = api.post("/charging-profiles/report/", json={"station": identity, "wait": 20})
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["status"] == "requested"
    assert report["command"]["payload"] == {"requestId": report["id"], "chargingProfile": {}}
    first = station.call("ReportChargingProfiles", {
        "requestId": report["id"], "chargingLimitSource": "CSO", "evseId": 1, "tbc": True,
        "chargingProfile": [reported(kept["charging_profile_id"], 1)]})
    assert first == {}
    # Nothing is reconciled before the last part.
    assert ChargingProfile.objects.get(pk=lost["id"]).state == "installed"
    station.call("ReportChargingProfiles", {
        "requestId": report["id"], "chargingLimitSource": "EMS", "evseId": 0,
        "chargingProfile": [reported(900001, 0, "ChargingStationExternalConstraints")]})
    done = api.get(f"/charging-profile-reports/{report['id']}/").json()
    assert done["status"] == "complete" and done["parts"] == 2 and len(done["profiles"]) == 2
    assert ChargingProfile.objects.get(pk=kept["id"]).state == "installed"
    assert ChargingProfile.objects.get(pk=lost["id"]).state == "cleared"
    external = ChargingProfile.objects.get(station__identity=identity, charging_profile_id=900001)
    assert external.reported and external.state == "installed" and external.evse_id == 0
    assert external.charging_limit_source == "EMS"


def test_no_profiles_clears_the_scope(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    on_one = push(api, identity, 1, evse_id=1)
    on_two = push(api, identity, 1, evse_id=2)
    station.answers["GetChargingProfiles"] = {"status": "NoProfiles"}
    response = api.post("/charging-profiles/report/", json={"station": identity, "evse_id": 1,
                                                             "wait": 20})
    assert response.json()["status"] == "empty"
    assert ChargingProfile.objects.get(pk=on_one["id"]).state == "cleared"
    assert ChargingProfile.objects.get(pk=on_two["id"]).state == "installed"


def test_report_for_an_unknown_request_is_answered(connect_station, identity):
    station = connect_station(identity)
    assert station.call("ReportChargingProfiles", {
        "requestId": 2_000_000_000, "chargingLimitSource": "CSO", "evseId": 1,
        "chargingProfile": [reported(5, 0)]}) == {}
    assert not ChargingProfile.objects.filter(station__identity=identity).exists()


def test_get_charging_profiles_is_201_only(connect_station, identity, api):
    connect_station(identity, "1.6")
    response = api.post("/charging-profiles/report/", json={"station": identity})
    assert response.status_code == 400 and "1.6" in response.json()["detail"]


def test_charging_limit_notified_and_cleared(connect_station, identity, api):
    station = connect_station(identity)
    limit_schedule = {"id": 1, "chargingRateUnit": "W",
                      "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}]}
    assert station.call("NotifyChargingLimit", {
        "chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": True},
        "chargingSchedule": [limit_schedule], "evseId": 1}) == {}
    station.call("NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "SO"}})
    limits = ChargingLimit.objects.filter(station__identity=identity)
    ems = limits.get(charging_limit_source="EMS")
    assert ems.evse_id == 1 and ems.is_grid_critical and ems.schedules == [limit_schedule]
    # A newer notification from the same source and EVSE is the current limit, not a second one.
    station.call("NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "EMS"},
                                         "evseId": 1})
    assert limits.filter(charging_limit_source="EMS").count() == 1
    assert station.call("ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": 1}) == {}
    active = api.get("/charging-limits/", params={"station": identity, "active": True}).json()
    assert [row["charging_limit_source"] for row in active["results"]] == ["SO"]
    assert limits.get(charging_limit_source="EMS").cleared_at is not None


def test_ev_charging_needs_and_schedule(connect_station, identity, api):
    station = connect_station(identity)
    needs = {"requestedEnergyTransfer": "AC_three_phase", "departureTime": "2026-03-01T18:00:00Z",
             "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6,
                                      "evMaxCurrent": 32, "evMaxVoltage": 400}}
    answer = station.call("NotifyEVChargingNeeds", {"evseId": 1, "maxScheduleTuples": 12,
                                                    "chargingNeeds": needs})
    assert answer["status"] == "Rejected" and answer["statusInfo"]["reasonCode"] == "NoChargingProfile"
    stored = EVChargingNeeds.objects.get(station__identity=identity)
    assert stored.charging_needs == needs and stored.max_schedule_tuples == 12
    assert stored.departure_time.isoformat() == "2026-03-01T18:00:00+00:00"
    chosen = {"id": 1, "chargingRateUnit": "A",
              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}
    assert station.call("NotifyEVChargingSchedule", {
        "timeBase": "2026-03-01T08:00:00Z", "evseId": 1, "chargingSchedule": chosen}) == {
        "status": "Accepted"}
    assert EVChargingSchedule.objects.get(station__identity=identity).charging_schedule == chosen
    listed = api.get("/ev-charging-needs/", params={"station": identity}).json()["results"]
    assert listed[0]["answer_status"] == "Rejected"
    eventually(lambda: api.get("/ev-charging-schedules/", params={"station": identity})
               .json()["count"] == 1)


def test_numbers_out_of_range_are_refused(connect_station, identity):
    from tests.station import CallFailed

    station = connect_station(identity)
    for action, payload in [
        ("NotifyEVChargingSchedule", {"timeBase": "2026-03-01T08:00:00Z", "evseId": -1,
                                      "chargingSchedule": {"id": 1, "chargingRateUnit": "A",
                                                           "chargingSchedulePeriod": [
                                                               {"startPeriod": 0, "limit": 6}]}}),
        ("ReportChargingProfiles", {"requestId": 1, "chargingLimitSource": "CSO", "evseId": 1,
                                    "chargingProfile": [reported(2**40, 0)]}),
        ("ReportChargingProfiles", {"requestId": 1, "chargingLimitSource": "CSO", "evseId": 1,
                                    "chargingProfile": [reported(1, -3)]}),
    ]:
        try:
            station.call(action, payload)
        except CallFailed as error:
            assert error.code == "PropertyConstraintViolation", (action, error.description)
        else:
            raise AssertionError(f"{action} {payload} was accepted")
    assert station.call("NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "SO"}}) == {}
