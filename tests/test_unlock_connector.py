"""UnlockConnector as a typed operation for both versions."""


def test_unlock_201_and_16(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["UnlockConnector"] = {"status": "Unlocked"}
    command = api.post(f"/stations/{identity}/unlock/",
                       json={"evse_id": 1, "connector_id": 2, "wait": 20}).json()
    assert command["payload"] == {"evseId": 1, "connectorId": 2}
    assert command["status"] == "accepted" and command["response"] == {"status": "Unlocked"}
    missing_evse = api.post(f"/stations/{identity}/unlock/", json={"connector_id": 1})
    assert missing_evse.status_code == 400 and "evse_id" in missing_evse.json()["detail"]

    legacy = connect_station(f"{identity}-16", "1.6")
    legacy.answers["UnlockConnector"] = {"status": "UnlockFailed"}
    command = api.post(f"/stations/{identity}-16/unlock/", json={"connector_id": 1, "wait": 20}).json()
    assert command["payload"] == {"connectorId": 1} and command["status"] == "rejected"
