"""Operational alerts raised and cleared by real stations, listed and acknowledged through the API.
Thresholds are shortened for the test server (tests/environment.py): offline 2 s, silent
transaction 4 s, 2 command timeouts in a row, the beat's check every second."""
import pytest

from tests.helpers import eventually, send_command


def alerts_of(api, identity, **filters):
    answer = api.get("/alerts/", params={"station": identity, **filters})
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def active_alert(api, identity, kind, subject=None):
    """The station's active alert of this kind (and subject), or None."""
    for alert in alerts_of(api, identity, kind=kind, state="Active"):
        if subject is None or alert["subject"] == subject:
            return alert
    return None


def cleared(api, alert):
    answer = api.get(f"/alerts/{alert['id']}/")
    return answer.json()["state"] == "Cleared" and answer.json()


def test_offline_station_raises_an_alert_that_reconnecting_clears(api, connect_station, identity):
    station = connect_station(identity)
    station.close()
    alert = eventually(lambda: active_alert(api, identity, "StationOffline"))
    assert alert["subject"] == "" and alert["message"].startswith("Offline since")
    assert alert["acknowledged"] is False and alert["cleared_at"] is None
    # Still offline: the beat keeps one alert, not one per pass.
    eventually(lambda: len(alerts_of(api, identity, kind="StationOffline")) == 1)

    connect_station(identity)
    done = eventually(lambda: cleared(api, alert))
    assert done["cleared_at"] is not None
    assert active_alert(api, identity, "StationOffline") is None


@pytest.mark.parametrize("version, subject", [("2.0.1", "1/1"), ("1.6", "/1")])
def test_faulted_connector_raises_an_alert_until_it_reports_another_status(
        api, connect_station, identity, version, subject):
    station = connect_station(identity, version)
    station.status("Faulted", timestamp="2026-01-01T00:00:00Z")
    alert = eventually(lambda: active_alert(api, identity, "ConnectorFaulted", subject))
    assert "Faulted" in alert["message"]

    # Faulted again: the same alert, updated.
    station.status("Faulted", timestamp="2026-01-01T00:00:01Z")
    updated = eventually(lambda: (a := active_alert(api, identity, "ConnectorFaulted", subject))
                         and a["raise_count"] == 2 and a)
    assert updated["id"] == alert["id"]

    station.status("Available", timestamp="2026-01-01T00:00:02Z")
    eventually(lambda: cleared(api, alert))


def test_rejected_boot_raises_an_alert_that_an_accepted_boot_clears(api, connect_station, identity):
    from stations.models import Station

    Station.objects.create(identity=identity, registration_policy="Rejected")
    station = connect_station(identity, boot=False)
    assert station.boot()["status"] == "Rejected"
    alert = eventually(lambda: active_alert(api, identity, "BootRejected"))
    assert "Rejected" in alert["message"]

    Station.objects.filter(identity=identity).update(registration_policy="Accepted")
    assert station.boot()["status"] == "Accepted"
    eventually(lambda: cleared(api, alert))


def test_commands_timing_out_in_a_row_raise_an_alert_that_an_answer_clears(
        api, connect_station, identity):
    station = connect_station(identity, auto_answer=False)
    for _ in range(2):  # ALERT_COMMAND_TIMEOUTS_IN_A_ROW in the tests
        assert send_command(api, identity, "Reset", {"type": "OnIdle"}, wait=0).status_code == 202
    alert = eventually(lambda: active_alert(api, identity, "CommandTimeouts"))
    assert alert["details"]["last_action"] == "Reset"
    # Both calls reached the station and got no answer from it.
    assert [station.next_call()[1] for _ in range(2)] == ["Reset", "Reset"]

    assert send_command(api, identity, "Reset", {"type": "OnIdle"}, wait=0).status_code == 202
    message_id, action, _ = station.next_call()
    station.reply(message_id, {"status": "Accepted"})
    eventually(lambda: cleared(api, alert))


def test_one_timeout_then_an_answer_raises_nothing(api, connect_station, identity):
    station = connect_station(identity, auto_answer=False)
    send_command(api, identity, "Reset", {"type": "OnIdle"}, wait=0)
    station.next_call()  # not answered: a timeout
    send_command(api, identity, "Reset", {"type": "OnIdle"}, wait=0)
    message_id, _, _ = station.next_call(timeout=15)
    station.reply(message_id, {"status": "Accepted"})
    eventually(lambda: sorted(c["status"] for c in api.get(
        "/commands/", params={"identity": identity}).json()["results"]) == ["accepted", "timeout"])
    assert alerts_of(api, identity, kind="CommandTimeouts") == []


def started(transaction_id, seq_no=0):
    return {"eventType": "Started", "timestamp": "2026-03-01T08:00:00Z",
            "triggerReason": "CablePluggedIn", "seqNo": seq_no,
            "transactionInfo": {"transactionId": transaction_id},
            "evse": {"id": 1, "connectorId": 1}}


def test_silent_transaction_raises_an_alert_that_news_and_the_end_clear(
        api, connect_station, identity):
    station = connect_station(identity)
    station.call("TransactionEvent", started("tx-silent"))
    alert = eventually(lambda: active_alert(api, identity, "TransactionSilent", "tx-silent"))
    assert alert["details"]["transaction_id"] == "tx-silent"

    # News (an Updated event) clears it; silence raises a new one.
    station.call("TransactionEvent", {**started("tx-silent", 1), "eventType": "Updated",
                                      "triggerReason": "ChargingStateChanged",
                                      "transactionInfo": {"transactionId": "tx-silent",
                                                          "chargingState": "Charging"}})
    eventually(lambda: cleared(api, alert))
    again = eventually(lambda: active_alert(api, identity, "TransactionSilent", "tx-silent"))
    assert again["id"] != alert["id"]

    station.call("TransactionEvent", {**started("tx-silent", 2), "eventType": "Ended",
                                      "triggerReason": "EVCommunicationLost",
                                      "transactionInfo": {"transactionId": "tx-silent",
                                                          "stoppedReason": "EVDisconnected"}})
    eventually(lambda: cleared(api, again))


def test_alerts_are_filtered_and_acknowledged_through_the_api(api, connect_station, identity):
    station = connect_station(identity)
    station.status("Faulted", connector_id=1)
    station.status("Faulted", connector_id=2)
    eventually(lambda: len(alerts_of(api, identity, kind="ConnectorFaulted", state="Active")) == 2)
    first = active_alert(api, identity, "ConnectorFaulted", "1/1")
    assert alerts_of(api, identity, kind="StationOffline") == []
    assert alerts_of(api, identity, acknowledged="false", state="Active") != []

    answer = api.post(f"/alerts/{first['id']}/acknowledge/")
    assert answer.status_code == 200, answer.text
    acknowledged = answer.json()
    assert acknowledged["acknowledged"] is True and acknowledged["acknowledged_by"] == "operator"
    assert acknowledged["state"] == "Active"  # seen, not gone
    # A second acknowledgement keeps the first one's time.
    assert api.post(f"/alerts/{first['id']}/acknowledge/").json()["acknowledged_at"] \
        == acknowledged["acknowledged_at"]
    assert [a["id"] for a in alerts_of(api, identity, acknowledged="true")] == [first["id"]]
    assert [a["subject"] for a in alerts_of(api, identity, acknowledged="false")] == ["1/2"]

    # An acknowledged alert still clears itself.
    station.status("Available", connector_id=1, timestamp="2026-01-01T00:00:05Z")
    eventually(lambda: cleared(api, first))


def test_bad_alert_requests_are_answered_4xx_json(api):
    assert api.get("/alerts/", params={"state": "Gone"}).status_code == 400
    assert api.get("/alerts/", params={"kind": "Nope"}).status_code == 400
    missing = api.post("/alerts/999999999/acknowledge/")
    assert missing.status_code == 404 and "detail" in missing.json()
    assert api.get("/alerts/999999999/").status_code == 404
    assert api.delete("/alerts/1/").status_code == 405


def test_the_page_acknowledges_with_a_plain_form_post(api, dashboard, connect_station, identity):
    station = connect_station(identity)
    station.status("Faulted")
    alert = eventually(lambda: active_alert(api, identity, "ConnectorFaulted"))
    page = f"/operational-alerts/?station={identity}"
    assert f'data-alert="{alert["id"]}"' in dashboard.get(page).text

    answer = dashboard.submit(f"/operational-alerts/{alert['id']}/acknowledge/",
                              {"next": page}, form_page=page)
    assert answer.status_code == 200 and str(answer.url).endswith(page)
    assert 'data-acknowledged="1"' in answer.text
    assert api.get(f"/alerts/{alert['id']}/").json()["acknowledged_by"] == "operator"
    # An outside `next` is not followed; an unknown alert is 404; GET is not an acknowledgement.
    outside = dashboard.submit(f"/operational-alerts/{alert['id']}/acknowledge/",
                               {"next": "https://example.com/"}, form_page=page)
    assert outside.url.host != "example.com"
    missing = dashboard.submit("/operational-alerts/999999999/acknowledge/", {}, form_page=page)
    assert missing.status_code == 404
    assert dashboard.get(f"/operational-alerts/{alert['id']}/acknowledge/").status_code == 405
    # Unknown filter values fall back to the defaults instead of failing.
    assert dashboard.get("/operational-alerts/?show=nope&kind=nope&page=x").status_code == 200
