"""Display messages (2.0.1 block O) against scripted stations: set (accepted, refused with the
station's reason, validated before sending), listed and filtered, cleared, and
GetDisplayMessages parts reconciled with what the CSMS tracks."""
from datetime import timedelta

from django.utils import timezone

from stations.models import DisplayMessage
from tests.transactions_helpers import event, new_token


def push(api, identity, content="Welcome", expect=201, **fields):
    response = api.post("/display-messages/", json={
        "station": identity, "priority": "NormalCycle", "content": content, "wait": 20, **fields})
    assert response.status_code == expect, response.text
    return response.json()


def shown(message_id, content, priority="InFront", **extra):
    return {"id": message_id, "priority": priority,
            "message": {"format": "UTF8", "content": content}, **extra}


def test_set_accepted_then_listed_and_cleared(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetDisplayMessage"] = {"status": "Accepted"}
    start = timezone.now() + timedelta(minutes=5)
    message = push(api, identity, "Free parking after 18:00", priority="AlwaysFront",
                   state="Idle", language="en", start_time=start.isoformat(),
                   end_time=(start + timedelta(hours=1)).isoformat())
    assert message["status"] == "accepted" and message["message_id"] == message["id"]
    sent = message["command"]["payload"]["message"]
    assert sent["priority"] == "AlwaysFront" and sent["state"] == "Idle"
    assert sent["message"] == {"format": "UTF8", "content": "Free parking after 18:00",
                               "language": "en"}
    assert sent["startDateTime"].endswith("Z") and "endDateTime" in sent
    # The same id again replaces the message the station shows.
    replacement = push(api, identity, "Free parking after 19:00", message_id=message["id"])
    assert api.get(f"/display-messages/{message['id']}/").json()["status"] == "replaced"
    listed = api.get("/display-messages/", params={"station": identity, "live": True}).json()
    assert [row["id"] for row in listed["results"]] == [replacement["id"]]

    station.answers["ClearDisplayMessage"] = {"status": "Accepted"}
    response = api.request("DELETE", f"/display-messages/{replacement['id']}/",
                           json={"wait": 20})
    assert response.status_code == 200, response.text
    cleared = response.json()
    assert cleared["status"] == "cleared" and cleared["cleared_at"]
    assert cleared["clear_command"]["payload"] == {"id": replacement["message_id"]}
    # A cleared message cannot be cleared again.
    again = api.delete(f"/display-messages/{replacement['id']}/")
    assert again.status_code == 400 and "cleared" in again.json()["detail"]


def test_refusals_keep_the_stations_reason(connect_station, identity, api):
    station = connect_station(identity)
    for reason in ("NotSupportedMessageFormat", "NotSupportedPriority", "NotSupportedState"):
        station.answers["SetDisplayMessage"] = {"status": reason}
        message = push(api, identity, f"refused: {reason}", format="HTML")
        assert (message["status"], message["rejection_reason"]) == ("rejected", reason)
    rejected = api.get("/display-messages/", params={"station": identity, "status": "rejected"})
    assert rejected.json()["count"] == 3


def test_validation_before_sending(connect_station, identity, api):
    connect_station(identity)
    now = timezone.now()
    reasons = push(api, identity, "x", expect=400, start_time=(now + timedelta(hours=2)).isoformat(),
                   end_time=(now + timedelta(hours=1)).isoformat(), transaction_id="no-such-tx")
    assert "end_time must come after start_time" in reasons["errors"]
    assert any("no transaction 'no-such-tx'" in reason for reason in reasons["errors"])
    too_long = api.post("/display-messages/", json={"station": identity, "priority": "InFront",
                                                    "content": "x" * 513})
    assert too_long.status_code == 400 and "content" in too_long.json()["errors"]
    assert not DisplayMessage.objects.filter(station__identity=identity).exists()
    assert api.get("/commands/", params={"identity": identity,
                                         "action": "SetDisplayMessage"}).json()["count"] == 0


def test_message_for_a_transaction(connect_station, identity, api):
    station = connect_station(identity)
    token = new_token()
    station.call("TransactionEvent", event("Started", 0, 0, "tx-display-1", trigger="Authorized",
                                           token=token, evse=1))
    station.answers["SetDisplayMessage"] = {"status": "Accepted"}
    message = push(api, identity, "Your session costs 0.30/kWh", transaction_id="tx-display-1")
    assert message["command"]["payload"]["message"]["transactionId"] == "tx-display-1"
    listed = api.get("/display-messages/", params={"transaction_id": "tx-display-1"}).json()
    assert [row["id"] for row in listed["results"]] == [message["id"]]


def test_get_display_messages_reconciles(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetDisplayMessage"] = {"status": "Accepted"}
    kept = push(api, identity, "kept")
    lost = push(api, identity, "lost")
    station.answers["GetDisplayMessages"] = {"status": "Accepted"}
    response = api.post("/display-messages/get/", json={"station": identity, "wait": 20})
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["status"] == "requested" and report["command"]["payload"] == {
        "requestId": report["request_id"]}
    assert station.call("NotifyDisplayMessages", {
        "requestId": report["request_id"], "tbc": True,
        "messageInfo": [shown(kept["message_id"], "kept", "NormalCycle")]}) == {}
    # Nothing is reconciled before the last part.
    assert DisplayMessage.objects.get(pk=lost["id"]).status == "accepted"
    station.call("NotifyDisplayMessages", {"requestId": report["request_id"], "messageInfo": [
        shown(777001, "Set locally", "AlwaysFront", state="Charging", transactionId="tx-9")]})
    done = api.get(f"/display-message-reports/{report['id']}/").json()
    assert done["status"] == "complete" and done["parts"] == 2 and len(done["messages"]) == 2
    assert DisplayMessage.objects.get(pk=kept["id"]).status == "accepted"
    assert DisplayMessage.objects.get(pk=lost["id"]).status == "cleared"
    found = DisplayMessage.objects.get(station__identity=identity, message_id=777001)
    assert found.reported and found.status == "accepted" and found.content == "Set locally"
    assert (found.priority, found.state, found.transaction_id) == ("AlwaysFront", "Charging", "tx-9")


def test_get_by_criteria_and_unknown_answer(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetDisplayMessage"] = {"status": "Accepted"}
    front = push(api, identity, "front", priority="InFront")
    normal = push(api, identity, "normal", priority="NormalCycle")
    station.answers["GetDisplayMessages"] = {"status": "Unknown"}
    report = api.post("/display-messages/get/", json={
        "station": identity, "priority": "InFront", "wait": 20}).json()
    assert report["status"] == "empty"
    assert report["command"]["payload"]["priority"] == "InFront"
    # Only the scope asked about is cleared.
    assert DisplayMessage.objects.get(pk=front["id"]).status == "cleared"
    assert DisplayMessage.objects.get(pk=normal["id"]).status == "accepted"
    ids = api.post("/display-messages/get/", json={"station": identity, "ids": [normal["message_id"]],
                                                   "wait": 20}).json()
    assert ids["command"]["payload"]["id"] == [normal["message_id"]]


def test_unknown_request_and_other_versions(connect_station, identity, api):
    station = connect_station(identity)
    assert station.call("NotifyDisplayMessages", {"requestId": 2_000_000_000, "messageInfo": [
        shown(1, "stray")]}) == {}
    assert not DisplayMessage.objects.filter(station__identity=identity).exists()
    old = connect_station(identity + "-16", "1.6")
    assert old
    refused = api.post("/display-messages/", json={"station": identity + "-16",
                                                   "priority": "InFront", "content": "x"})
    assert refused.status_code == 400 and "2.0.1 only" in refused.json()["detail"]
    station.answers["SetDisplayMessage"] = {"status": "Accepted"}
    station.close()
    offline = push(api, identity, "nobody home")
    assert offline["status"] == "failed" and offline["command"]["status"] == "offline"


def test_the_sweep_applies_answers_a_receiver_left(identity):
    from csms.models import Command
    from stations import tasks
    from stations.models import DisplayMessageReport, Station

    station = Station.objects.create(identity=identity, ocpp_version="2.0.1")
    answered = Command.objects.create(identity=identity, ocpp_version="2.0.1",
                                      action="SetDisplayMessage", status="rejected",
                                      response={"status": "UnknownTransaction"})
    message = DisplayMessage.objects.create(station=station, message_id=5, priority="InFront",
                                            content="x", transaction_id="gone", command=answered)
    asked = Command.objects.create(identity=identity, ocpp_version="2.0.1",
                                   action="GetDisplayMessages", status="timeout")
    report = DisplayMessageReport.objects.create(station=station, command=asked)
    tasks.settle_display_messages()
    message.refresh_from_db()
    report.refresh_from_db()
    assert (message.status, message.rejection_reason) == ("rejected", "UnknownTransaction")
    assert report.status == "failed" and report.completed_at


def test_display_component_is_sent_and_checked_against_the_schema(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetDisplayMessage"] = {"status": "Accepted"}
    message = push(api, identity, "On the side screen", display={
        "name": "Display", "instance": "Side", "evse": {"id": 1}})
    assert message["command"]["payload"]["message"]["display"] == {
        "name": "Display", "instance": "Side", "evse": {"id": 1}}
    refused = push(api, identity, "x", expect=400, display={"name": "D" * 51})
    assert any("display" in reason for reason in refused["errors"]), refused
    assert DisplayMessage.objects.filter(station__identity=identity).count() == 1
