"""Bulk operations through the API: one command to listed stations or to all a filter chooses,
each station sent the call of its own OCPP version, each outcome recorded (accepted, rejected,
offline, not supported); bad requests answered 400 with what is wrong."""
import uuid

from tests.helpers import eventually


def _finished(api, pk):
    def check():
        body = api.get(f"/bulk-operations/{pk}/").json()
        return body if body["state"] == "finished" else None
    return eventually(check, timeout=60)


def _outcomes(api, pk):
    rows = api.get(f"/bulk-operations/{pk}/targets/").json()["results"]
    return {row["station"]: (row["outcome"], row["detail"]) for row in rows}


def _offline_station(connect_station, identity, version="2.0.1"):
    from stations.models import Station

    connect_station(identity, version).close()
    eventually(lambda: not Station.objects.get(identity=identity).online)


def test_change_availability_with_one_station_offline(api, connect_station):
    run = uuid.uuid4().hex[:6]
    accepting, refusing, offline = (f"BULK-{run}-A", f"BULK-{run}-B", f"BULK-{run}-C")
    station_201 = connect_station(accepting, "2.0.1")
    station_16 = connect_station(refusing, "1.6")
    station_16.answers["ChangeAvailability"] = {"status": "Rejected"}
    _offline_station(connect_station, offline)

    created = api.post("/bulk-operations/", json={
        "action": "change_availability", "parameters": {"operational_status": "Inoperative"},
        "stations": [offline, accepting, refusing]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["description"] == "Change availability (Inoperative)"
    assert body["counts"]["total"] == 3

    body = _finished(api, body["id"])
    assert (body["counts"]["accepted"], body["counts"]["rejected"], body["counts"]["offline"],
            body["counts"]["done"], body["counts"]["percent"]) == (1, 1, 1, 3, 100)
    outcomes = _outcomes(api, body["id"])
    assert outcomes[accepting] == ("accepted", "Accepted")
    assert outcomes[refusing] == ("rejected", "Rejected")
    assert outcomes[offline][0] == "offline"
    # Each station got the call of its own version: the whole station made Inoperative.
    assert _call(station_201, "ChangeAvailability") == {"operationalStatus": "Inoperative"}
    assert _call(station_16, "ChangeAvailability") == {"connectorId": 0, "type": "Inoperative"}

    offline_only = api.get(f"/bulk-operations/{body['id']}/targets/?outcome=offline").json()
    assert [row["station"] for row in offline_only["results"]] == [offline]
    assert offline_only["results"][0]["command_status"] == "offline"


def _call(client, action):
    while True:
        _, received, payload = client.next_call()
        if received == action:
            return payload


def test_reset_of_every_station_a_filter_matches(api, connect_station):
    run = uuid.uuid4().hex[:8]
    names = [f"FLT-{run}-{i}" for i in range(3)]
    clients = [connect_station(name, version) for name, version in
               zip(names, ["2.0.1", "1.6", "2.0.1"])]
    connect_station(f"OTHER-{uuid.uuid4().hex[:8]}", "2.0.1")

    created = api.post("/bulk-operations/", json={
        "action": "reset", "parameters": {"type": "OnIdle"},
        "filter": {"q": run, "state": "online"}})
    assert created.status_code == 201, created.text
    body = _finished(api, created.json()["id"])
    assert body["selection_filter"] == {"q": run, "state": "online"}
    assert _outcomes(api, body["id"]) == {name: ("accepted", "Accepted") for name in names}
    assert [_call(client, "Reset") for client in clients] == [
        {"type": "OnIdle"}, {"type": "Soft"}, {"type": "OnIdle"}]


def test_local_list_and_report_requests_reuse_the_single_station_sends(api, connect_station):
    from devicemodel.models import Report
    from transactions.models import LocalListUpdate

    run = uuid.uuid4().hex[:6]
    station_201 = connect_station(f"LL-{run}-A", "2.0.1")
    station_16 = connect_station(f"LL-{run}-B", "1.6")
    names = [station_201.identity, station_16.identity]

    created = api.post("/bulk-operations/", json={"action": "send_local_list", "stations": names})
    assert created.status_code == 201, created.text
    for client in (station_201, station_16):
        message_id, action, payload = client.next_call()
        assert action == "SendLocalList"
        assert payload["updateType"] == "Full"
        client.reply(message_id, {"status": "Accepted"})
    _finished(api, created.json()["id"])
    # The answers were applied to the stations' local lists by the transactions app itself.
    eventually(lambda: LocalListUpdate.objects.filter(
        command__source__startswith=f"bulk:{created.json()['id']} ", settled=True).count() == 2)

    created = api.post("/bulk-operations/", json={
        "action": "report", "parameters": {"report_base": "SummaryInventory"}, "stations": names})
    assert created.status_code == 201, created.text
    message_id, action, payload = station_201.next_call()
    assert (action, payload["reportBase"]) == ("GetBaseReport", "SummaryInventory")
    station_201.reply_error(message_id, "NotSupported", "no reports here")
    message_id, action, payload = station_16.next_call()
    assert action == "GetConfiguration"
    station_16.reply(message_id, {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"}]})
    body = _finished(api, created.json()["id"])
    outcomes = _outcomes(api, body["id"])
    assert outcomes[station_201.identity][0] == "not_supported"
    assert outcomes[station_16.identity][0] == "accepted"
    # The 1.6 answer filled its device model through the devicemodel app's own report handling.
    eventually(lambda: Report.objects.filter(station__identity=station_16.identity,
                                             status="done").exists())


def test_bad_requests_are_answered_400(api, connect_station):
    identity = f"BAD-{uuid.uuid4().hex[:8]}"
    connect_station(identity)
    bad_bodies = [
        ({"action": "explode", "stations": [identity]}, "action"),
        ({"action": "reset", "parameters": {"type": "Sideways"}, "stations": [identity]},
         "parameters"),
        ({"action": "reset", "parameters": {"colour": "red"}, "stations": [identity]},
         "parameters"),
        ({"action": "reset"}, "stations"),
        ({"action": "reset", "stations": [identity], "filter": {"q": "x"}}, "stations"),
        ({"action": "reset", "stations": []}, "stations"),
        ({"action": "reset", "stations": ["NO-SUCH-STATION-XYZ"]}, "stations"),
        ({"action": "reset", "filter": {"colour": "red"}}, "filter"),
        ({"action": "reset", "filter": {"state": "maybe"}}, "filter"),
        ({"action": "reset", "filter": {"q": f"nothing-matches-{uuid.uuid4().hex}"}}, "stations"),
        ({"action": "reset", "stations": "all"}, "stations"),
        ({"action": "reset", "parameters": "Immediate", "stations": [identity]}, "parameters"),
    ]
    for body, field in bad_bodies:
        answer = api.post("/bulk-operations/", json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/json")
        assert field in answer.text, (body, answer.text)
    answer = api.post("/bulk-operations/", content=b"not json",
                      headers={"Content-Type": "application/json"})
    assert answer.status_code == 400

    created = api.post("/bulk-operations/", json={"action": "reset", "stations": [identity]})
    assert created.status_code == 201
    assert api.get(f"/bulk-operations/{created.json()['id']}/targets/?outcome=bogus"
                   ).status_code == 400
    assert api.get("/bulk-operations/999999999/").status_code == 404
    names = [action["name"] for action in api.get("/bulk-operations/actions/").json()]
    assert names == ["reset", "change_availability", "send_local_list", "report"]
