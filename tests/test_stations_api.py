"""/api/v1/stations/: list, detail with EVSEs and connectors, registration, clear 4xx errors."""
import httpx

from stations.models import Station


def test_requires_a_token(csms):
    response = httpx.get(f"{csms.base_url}/api/v1/stations/")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_register_list_detail(api, connect_station, identity):
    created = api.post("/stations/", json={"identity": identity, "password": "p" * 16,
                                           "description": "Car park level 2"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["has_password"] is True and "password" not in body
    station = connect_station(identity, password="p" * 16)
    station.status("Available", evse_id=1, connector_id=1)
    detail = api.get(f"/stations/{identity}/").json()
    assert detail["online"] and detail["ocpp_version"] == "2.0.1"
    assert detail["evses"] == [{"evse_id": 1, "connectors": [
        {**detail["evses"][0]["connectors"][0], "connector_id": 1, "status": "Available"}]}]
    listed = api.get("/stations/", params={"online": "true"}).json()["results"]
    assert identity in [s["identity"] for s in listed]


def test_16_connectors_listed_under_the_station(api, connect_station, identity):
    station = connect_station(identity, "1.6")
    station.status("Charging", connector_id=2)
    detail = api.get(f"/stations/{identity}/").json()
    assert detail["evses"] == []
    assert [(c["connector_id"], c["status"]) for c in detail["connectors"]] == [(2, "Charging")]


def test_bad_requests_say_why(api, identity):
    assert api.post("/stations/", json={}).json()["detail"].startswith("identity")
    short = api.post("/stations/", json={"identity": identity, "password": "short"})
    assert short.status_code == 400 and "password" in short.json()["detail"]
    assert api.post("/stations/", json={"identity": "a/b"}).status_code == 400
    assert api.post("/stations/", json={"identity": "x" * 49}).status_code == 400
    api.post("/stations/", json={"identity": identity})
    duplicate = api.post("/stations/", json={"identity": identity})
    assert duplicate.status_code == 400 and "identity" in duplicate.json()["detail"]
    assert api.get("/stations/no-such-station/").status_code == 404
    bad_command = api.post(f"/stations/{identity}/commands/", json={"payload": {}})
    assert bad_command.status_code == 400 and "action" in bad_command.json()["detail"]


def test_command_to_a_never_connected_station_is_a_conflict(api, identity):
    api.post("/stations/", json={"identity": identity})
    response = api.post(f"/stations/{identity}/reset/", json={})
    assert response.status_code == 409
    assert "never connected" in response.json()["detail"]


def test_update_policy_and_password(api, identity):
    api.post("/stations/", json={"identity": identity})
    response = api.patch(f"/stations/{identity}/", json={"registration_policy": "Pending",
                                                         "password": "q" * 20})
    assert response.status_code == 200, response.text
    station = Station.objects.get(identity=identity)
    assert station.registration_policy == "Pending" and station.check_password("q" * 20)
    renamed = api.patch(f"/stations/{identity}/", json={"identity": identity + "-2"})
    assert renamed.status_code == 400


def test_openapi_schema_and_docs(api, csms):
    schema = api.get("/schema/", params={"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/stations/{identity}/commands/" in paths
    assert "/api/v1/commands/{id}/" in paths
    assert api.get("/docs/").status_code == 200


def test_token_endpoint(csms, operator):
    response = httpx.post(f"{csms.base_url}/api/v1/token/",
                          data={"username": "operator", "password": operator["password"]})
    assert response.json()["token"] == operator["token"]
