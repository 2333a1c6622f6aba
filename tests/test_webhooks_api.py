"""The webhooks API: subscriptions are checked (URL, event types, secret) with clear 400s, a secret
is made up when none is given, and a delivery is redelivered on request with the same event."""
from tests.helpers import eventually
from tests.webhook_receiver import WebhookReceiver


def test_bad_subscriptions_are_refused_with_reasons(api):
    cases = [
        ({"url": "ftp://example.com/x", "event_types": ["station.online"]}, "url"),
        ({"url": "not a url", "event_types": ["station.online"]}, "url"),
        ({"url": "https://example.com/x", "event_types": []}, "event_types"),
        ({"url": "https://example.com/x", "event_types": ["station.exploded"]}, "event_types"),
        ({"url": "https://example.com/x", "event_types": ["station.online"], "secret": "short"},
         "secret"),
    ]
    for body, field in cases:
        answer = api.post("/webhooks/", json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert list(answer.json()["errors"]) == [field], answer.text


def test_a_secret_is_made_up_and_event_types_kept_in_catalogue_order(api):
    answer = api.post("/webhooks/", json={
        "url": "https://integrator.example/hook",
        "event_types": ["transaction.ended", "station.online", "station.online"]})
    assert answer.status_code == 201, answer.text
    subscription = answer.json()
    try:
        assert len(subscription["secret"]) == 64 and subscription["active"] is True
        assert subscription["event_types"] == ["station.online", "transaction.ended"]
        paused = api.patch(f"/webhooks/{subscription['id']}/", json={"active": False})
        assert paused.status_code == 200 and paused.json()["active"] is False
        assert api.get(f"/webhooks/{subscription['id']}/deliveries/",
                       params={"status": "lost"}).status_code == 400
    finally:
        assert api.delete(f"/webhooks/{subscription['id']}/").status_code == 204


def test_redeliver_sends_the_same_event_again(api, connect_station, identity):
    receiver = WebhookReceiver("api-webhook-secret-0123456789")
    subscription = api.post("/webhooks/", json={
        "url": receiver.url, "secret": receiver.secret, "event_types": ["station.online"]}).json()
    try:
        connect_station(identity)
        event = eventually(lambda: receiver.events("station.online", identity))[0]
        log = f"/webhooks/{subscription['id']}/deliveries/"
        delivery = eventually(lambda: [row for row in api.get(log).json()["results"]
                                       if row["event_id"] == event["id"]
                                       and row["status"] == "delivered"])[0]
        answer = api.post(f"{log}{delivery['id']}/redeliver/")
        assert answer.status_code == 202, answer.text
        again = eventually(lambda: receiver.events("station.online", identity)[1:])[0]
        assert again == event
        delivery = eventually(lambda: [row for row in api.get(log).json()["results"]
                                       if row["id"] == delivery["id"] and row["attempts"] == 2])[0]
        assert delivery["attempt_log"][1]["trigger"] == "redeliver:api:operator"
        assert api.post(f"{log}999999999/redeliver/").status_code == 404
    finally:
        api.delete(f"/webhooks/{subscription['id']}/")
        receiver.close()
