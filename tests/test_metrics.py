"""/metrics: Prometheus counters and gauges move with real stations, commands and sockets; only a
staff login or the metrics token may read them."""
import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.browser_helpers import DashboardClient
from tests.helpers import eventually
from tests.helpers import send_command as send


def scrape(client, **request):
    response = client.get("/metrics", **request)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def messages(samples, direction, message_type, action, outcome=""):
    return value(samples, "csms_ocpp_messages_total", direction=direction,
                 message_type=message_type, action=action, outcome=outcome)


def moved(client, before, expected):
    """Scrape until every (name, labels) in `expected` has grown by at least its amount."""
    def check():
        samples = scrape(client)
        return samples if all(
            value(samples, name, **labels) - value(before, name, **labels) >= amount
            for (name, labels), amount in expected) else None
    return eventually(check)


def test_messages_handler_latency_and_connected_stations(dashboard, connect_station, identity):
    before = scrape(dashboard)
    connected_before = value(before, "csms_stations_connected", ocpp_version="2.0.1")
    station = connect_station(identity)  # boots
    station.call("Heartbeat", {})
    after = moved(dashboard, before, [
        (("csms_ocpp_messages_total", {"direction": "in", "message_type": "CALL",
                                       "action": "BootNotification", "outcome": ""}), 1),
        (("csms_ocpp_messages_total", {"direction": "in", "message_type": "CALL",
                                       "action": "Heartbeat", "outcome": ""}), 1),
        (("csms_ocpp_messages_total", {"direction": "out", "message_type": "CALLRESULT",
                                       "action": "Heartbeat", "outcome": "ok"}), 1),
        (("csms_ocpp_handler_seconds_count", {"action": "Heartbeat"}), 1),
        (("csms_ocpp_handler_seconds_count", {"action": "BootNotification"}), 1),
        (("csms_ocpp_upgrades_total", {"outcome": "accepted"}), 1),
    ])
    # The histogram's buckets hold what its count says.
    assert value(after, "csms_ocpp_handler_seconds_bucket", action="Heartbeat", le="+Inf") == \
        value(after, "csms_ocpp_handler_seconds_count", action="Heartbeat")
    assert value(after, "csms_ocpp_handler_seconds_sum", action="Heartbeat") > 0
    eventually(lambda: value(scrape(dashboard), "csms_stations_connected", ocpp_version="2.0.1")
               >= connected_before + 1)
    connected = value(scrape(dashboard), "csms_stations_connected", ocpp_version="2.0.1")

    # A CALL the CSMS does not know is counted under "unknown" with its error, not its own name.
    try:
        station.call("NoSuchAction", {})
    except Exception:
        pass
    moved(dashboard, after, [
        (("csms_ocpp_messages_total", {"direction": "in", "message_type": "CALL",
                                       "action": "unknown", "outcome": ""}), 1),
        (("csms_ocpp_messages_total", {"direction": "out", "message_type": "CALLERROR",
                                       "action": "unknown", "outcome": "NotImplemented"}), 1),
    ])
    assert not any(dict(labels).get("action") == "NoSuchAction" for _, labels in scrape(dashboard))

    station.close()
    eventually(lambda: value(scrape(dashboard), "csms_stations_connected", ocpp_version="2.0.1")
               <= connected - 1)


def test_command_outcomes_and_open_commands(dashboard, api, connect_station, identity):
    before = scrape(dashboard)
    station = connect_station(identity, auto_answer=False)
    first = send(api, identity, "ClearCache", wait=0)
    second = send(api, identity, "ClearCache", wait=0)
    assert (first.status_code, second.status_code) == (202, 202), (first.text, second.text)
    message_id, action, _ = station.next_call()
    assert action == "ClearCache"
    # One call outstanding per station: the first is sent, the second waits in the queue.
    samples = scrape(dashboard)
    assert value(samples, "csms_commands_open", status="sent") >= 1
    assert value(samples, "csms_commands_open", status="queued") >= 1

    station.reply(message_id, {"status": "Accepted"})
    message_id, action, _ = station.next_call()
    assert action == "ClearCache"
    station.reply_error(message_id, "NotSupported", "no cache here")
    moved(dashboard, before, [
        (("csms_commands_finished_total", {"status": "accepted"}), 1),
        (("csms_commands_finished_total", {"status": "error"}), 1),
        (("csms_ocpp_messages_total", {"direction": "out", "message_type": "CALL",
                                       "action": "ClearCache", "outcome": ""}), 2),
        (("csms_ocpp_messages_total", {"direction": "in", "message_type": "CALLRESULT",
                                       "action": "ClearCache", "outcome": "ok"}), 1),
        (("csms_ocpp_messages_total", {"direction": "in", "message_type": "CALLERROR",
                                       "action": "ClearCache", "outcome": "NotSupported"}), 1),
        (("csms_ocpp_station_answer_seconds_count", {"action": "ClearCache"}), 2),
    ])

    station.close()
    eventually(lambda: send(api, identity, "ClearCache", wait=0).json()["status"] == "offline")
    moved(dashboard, before, [(("csms_commands_finished_total", {"status": "offline"}), 1)])


def test_message_log_buffer_and_process_metrics_are_exposed(dashboard):
    samples = scrape(dashboard)
    assert ("csms_message_log_buffer_frames", ()) in samples
    assert value(samples, "process_resident_memory_bytes") > 0  # the client's process collector


def test_metrics_need_a_staff_login_or_the_token(csms, identity):
    from django.contrib.auth.models import User

    anonymous = httpx.get(f"{csms.base_url}/metrics", timeout=30)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    # No token is set on this server: no bearer token opens it.
    guessed = httpx.get(f"{csms.base_url}/metrics", headers={"Authorization": "Bearer a-guess"},
                        timeout=30)
    assert guessed.status_code == 401
    User.objects.create_user(f"viewer-{identity}", password="a-viewer-password")
    with DashboardClient(base_url=csms.base_url, timeout=30) as viewer:
        viewer.log_in(f"viewer-{identity}", "a-viewer-password")
        assert viewer.get("/metrics").status_code == 403
