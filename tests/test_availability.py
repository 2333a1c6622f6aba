"""ChangeAvailability as a typed operation for both versions."""


def test_change_availability_201_and_16(connect_station, identity, api):
    connect_station(identity)
    whole = api.post(f"/stations/{identity}/change-availability/",
                     json={"operational_status": "Inoperative", "wait": 20}).json()
    assert whole["payload"] == {"operationalStatus": "Inoperative"} and whole["status"] == "accepted"
    connector = api.post(f"/stations/{identity}/change-availability/", json={
        "operational_status": "Operative", "evse_id": 1, "connector_id": 2, "wait": 20}).json()
    assert connector["payload"] == {"operationalStatus": "Operative",
                                    "evse": {"id": 1, "connectorId": 2}}
    no_evse = api.post(f"/stations/{identity}/change-availability/",
                       json={"operational_status": "Operative", "connector_id": 2})
    assert no_evse.status_code == 400 and "evse_id" in no_evse.json()["detail"]
    wrong = api.post(f"/stations/{identity}/change-availability/", json={"operational_status": "Off"})
    assert wrong.status_code == 400 and "operational_status" in wrong.json()["detail"]

    legacy = connect_station(f"{identity}-16", "1.6")
    legacy.answers["ChangeAvailability"] = {"status": "Scheduled"}
    command = api.post(f"/stations/{identity}-16/change-availability/",
                       json={"operational_status": "Inoperative", "connector_id": 1, "wait": 20}).json()
    assert command["payload"] == {"connectorId": 1, "type": "Inoperative"}
    assert command["status"] == "accepted" and command["response"] == {"status": "Scheduled"}
    station_wide = api.post(f"/stations/{identity}-16/change-availability/",
                            json={"operational_status": "Operative", "wait": 20}).json()
    assert station_wide["payload"] == {"connectorId": 0, "type": "Operative"}
