"""Local authorization lists: Full, then Differential with only the changes, version tracking per
station with the version the station reports (GetLocalListVersion), and ClearCache."""
from tests.helpers import calls_before_marker, eventually
from tests.transactions_helpers import new_token
from transactions.models import LocalList


def entries_201(payload):
    return {entry["idToken"]["idToken"]: entry.get("idTokenInfo", {}).get("status")
            for entry in payload.get("localAuthorizationList", [])}


def test_full_then_differential_201(connect_station, identity, api):
    a, b, c = new_token(), new_token(), new_token()
    station = connect_station(identity)
    station.answers["SendLocalList"] = {"status": "Accepted"}
    full = api.post(f"/stations/{identity}/send-local-list/", json={
        "update_type": "Full", "id_tokens": [a.id_token, b.id_token], "wait": 20}).json()
    assert full["status"] == "accepted"
    assert full["payload"]["versionNumber"] == 1 and full["payload"]["updateType"] == "Full"
    assert entries_201(full["payload"]) == {a.id_token: "Accepted", b.id_token: "Accepted"}

    station.answers["GetLocalListVersion"] = {"versionNumber": 1}
    api.post(f"/local-lists/{identity}/get-version/", json={"wait": 20})
    local_list = LocalList.objects.get(station__identity=identity)
    assert (local_list.version_number, local_list.reported_version) == (1, 1)

    b.status = "Blocked"
    b.save()
    differential = api.post(f"/stations/{identity}/send-local-list/", json={
        "update_type": "Differential", "id_tokens": [a.id_token, b.id_token, c.id_token],
        "wait": 20}).json()
    assert differential["payload"]["updateType"] == "Differential"
    assert differential["payload"]["versionNumber"] == 2
    assert entries_201(differential["payload"]) == {b.id_token: "Blocked", c.id_token: "Accepted"}

    # Dropping a token from the selection removes it: an entry without idTokenInfo.
    removal = api.post(f"/stations/{identity}/send-local-list/", json={
        "update_type": "Differential", "id_tokens": [a.id_token, c.id_token], "wait": 20}).json()
    assert removal["payload"]["localAuthorizationList"] == [
        {"idToken": {"idToken": b.id_token, "type": "ISO14443"}}]
    assert LocalList.objects.get(station__identity=identity).version_number == 3


def test_station_reporting_another_version_gets_a_full_list(connect_station, identity, api):
    a = new_token()
    station = connect_station(identity)
    station.answers["SendLocalList"] = {"status": "Accepted"}
    api.post(f"/stations/{identity}/send-local-list/", json={"id_tokens": [a.id_token], "wait": 20})
    station.answers["GetLocalListVersion"] = {"versionNumber": 0}  # the station lost its list
    api.post(f"/local-lists/{identity}/get-version/", json={"wait": 20})
    assert api.get(f"/local-lists/{identity}/").json()["reported_version"] == 0
    again = api.post(f"/stations/{identity}/send-local-list/", json={
        "update_type": "Differential", "wait": 20}).json()
    assert again["payload"]["updateType"] == "Full" and again["payload"]["versionNumber"] == 2
    assert entries_201(again["payload"]) == {a.id_token: "Accepted"}


def test_version_mismatch_and_16_lists(connect_station, identity, api):
    a, b = new_token(), new_token()
    station = connect_station(identity, "1.6")
    station.answers["SendLocalList"] = {"status": "Accepted"}
    full = api.post(f"/stations/{identity}/send-local-list/", json={
        "update_type": "Full", "id_tokens": [a.id_token], "wait": 20}).json()
    assert full["payload"]["listVersion"] == 1
    assert full["payload"]["localAuthorizationList"][0]["idTag"] == a.id_token
    assert full["payload"]["localAuthorizationList"][0]["idTagInfo"]["status"] == "Accepted"

    station.answers["SendLocalList"] = {"status": "VersionMismatch"}
    mismatch = api.post(f"/stations/{identity}/send-local-list/", json={
        "update_type": "Differential", "id_tokens": [a.id_token, b.id_token]}).json()
    assert mismatch["payload"]["updateType"] == "Differential"
    assert eventually(lambda: LocalList.objects.get(station__identity=identity).entries is None)
    station.answers["SendLocalList"] = {"status": "Accepted"}
    after = api.post(f"/stations/{identity}/send-local-list/", json={
        "update_type": "Differential", "id_tokens": [a.id_token, b.id_token], "wait": 20}).json()
    assert after["payload"]["updateType"] == "Full" and after["payload"]["listVersion"] == 2
    assert len(after["payload"]["localAuthorizationList"]) == 2


def test_clear_cache_and_bad_requests(connect_station, identity, api):
    station = connect_station(identity, "1.6")
    cleared = api.post(f"/local-lists/{identity}/clear-cache/", json={"wait": 20}).json()
    assert cleared["action"] == "ClearCache" and cleared["status"] == "accepted"
    unknown = api.post(f"/stations/{identity}/send-local-list/", json={"id_tokens": ["NOPE-1"]})
    assert unknown.status_code == 400 and "NOPE-1" in unknown.json()["detail"]
    wrong_type = api.post(f"/stations/{identity}/send-local-list/", json={"update_type": "Half"})
    assert wrong_type.status_code == 400 and "update_type" in wrong_type.json()["detail"]
    assert api.post("/local-lists/no-such-station/clear-cache/", json={}).status_code == 404
    assert [action for _, action, _ in calls_before_marker(api, station)] == ["ClearCache"]
