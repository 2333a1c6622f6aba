"""/api/v1/id-tokens/: create, change, group, allowed stations, CSV import, bad input."""
import uuid


def test_token_crud(api, identity, connect_station):
    connect_station(identity)
    value = f"API{uuid.uuid4().hex[:8]}"
    group = api.post("/id-tokens/", json={"id_token": f"G{value}", "type": "Central"}).json()
    created = api.post("/id-tokens/", json={
        "id_token": value, "type": "ISO14443", "group": group["id_token"],
        "allowed_stations": [identity], "allowed_evse_ids": [1], "charging_priority": 2,
        "spending_limit": "50.00", "expires_at": "2030-01-01T00:00:00Z"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["group"] == f"G{value}" and body["allowed_stations"] == [identity]
    blocked = api.patch(body["url"], json={"status": "Blocked"}).json()
    assert blocked["status"] == "Blocked"
    assert api.get("/id-tokens/", params={"group": f"G{value}"}).json()["count"] == 1
    duplicate = api.post("/id-tokens/", json={"id_token": value, "type": "ISO14443"})
    assert duplicate.status_code == 400 and duplicate.json()["detail"]
    too_long = api.post("/id-tokens/", json={"id_token": "x" * 37})
    assert too_long.status_code == 400 and "id_token" in too_long.json()["detail"]
    bad_type = api.post("/id-tokens/", json={"id_token": "ok", "type": "Magic"})
    assert bad_type.status_code == 400 and "type" in bad_type.json()["detail"]
    assert api.delete(body["url"]).status_code == 204


def test_csv_import(api):
    prefix = uuid.uuid4().hex[:6].upper()
    text = ("id_token,type,status,group,expires_at,charging_priority\n"
            f"{prefix}A,ISO14443,Accepted,{prefix}FLEET,2030-01-01T00:00:00Z,1\n"
            f"{prefix}B,,Blocked,{prefix}FLEET,,\n")
    result = api.post("/id-tokens/import/", json={"csv": text})
    assert result.status_code == 200, result.text
    assert result.json() == {"created": 2, "updated": 0}
    tokens = api.get("/id-tokens/", params={"group": f"{prefix}FLEET"}).json()["results"]
    assert {(t["id_token"], t["status"]) for t in tokens} == {(f"{prefix}A", "Accepted"),
                                                            (f"{prefix}B", "Blocked")}
    again = api.post("/id-tokens/import/", files={"file": ("tokens.csv", text.encode(), "text/csv")})
    assert again.json() == {"created": 0, "updated": 2}
    broken = api.post("/id-tokens/import/", json={
        "csv": f"id_token,status\n{prefix}C,Accepted\n{prefix}D,Sleeping\n"})
    assert broken.status_code == 400 and "Line 3" in broken.json()["detail"]
    assert api.get("/id-tokens/", params={"id_token": f"{prefix}C"}).json()["count"] == 0
    no_header = api.post("/id-tokens/import/", json={"csv": "just,some,text\n"})
    assert no_header.status_code == 400 and "id_token" in no_header.json()["detail"]
    assert api.post("/id-tokens/import/", json={}).status_code == 400
