"""Firmware campaigns over scripted stations (real WebSockets): batches within the concurrency
limit, the canary pausing a campaign, pause/resume/cancel, a station offline at its turn, the
maintenance window, retries, and the API's answers to wrong requests."""
import time
import uuid
import zoneinfo
from datetime import datetime, time as clock, timedelta

import pytest
from hypothesis import given, strategies as st

from stations.models.campaigns import time_in_window
from tests.campaign_helpers import (
    DOWNLOAD_FAILURE, NEW_VERSION, campaign_state, firmware_image, firmware_station, got_update,
    install, next_update, report, target_states,
)
from tests.helpers import eventually

# Long enough for an advance that should not happen to have happened (it runs at once on a
# target's change, and the beat runs every second in tests: FIRMWARE_CAMPAIGN_TICK_SECONDS).
QUIET = 1.5


def identities(n, prefix="FW"):
    run = uuid.uuid4().hex[:6]
    return [f"{prefix}-{run}-{i:02d}" for i in range(n)]


def create(api, image, names, **options):
    body = {"name": f"campaign {uuid.uuid4().hex[:4]}", "image": image.pk,
            "filter_identities": names, **options}
    answer = api.post("/firmware-campaigns/", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def start(api, pk):
    answer = api.post(f"/firmware-campaigns/{pk}/start/")
    assert answer.status_code == 200, answer.text
    return answer.json()


def updates_received(clients):
    return {client.identity: payload for client in clients
            if (payload := got_update(client)) is not None}


def test_batches_stay_within_the_concurrency_limit_and_end_completed(api, connect_station):
    names = identities(5)
    versions = ["2.0.1", "1.6", "2.0.1", "1.6", "2.0.1"]
    clients = [firmware_station(connect_station, name, version)
               for name, version in zip(names, versions)]
    tag = f"pilot-{uuid.uuid4().hex[:6]}"
    for name in names:
        assert api.post("/station-tags/", json={"station": name, "name": tag}).status_code == 201
    assert [row["name"] for row in api.get(f"/station-tags/?station={names[0]}").json()["results"]] == [tag]
    assert api.post("/station-tags/", json={"station": names[0], "name": tag}).status_code == 400
    image = firmware_image()
    preview = api.post("/firmware-campaigns/preview/", json={"image": image.pk, "filter_tag": tag,
                                                             "filter_firmware_version": "1.0"})
    assert preview.status_code == 200, preview.text
    assert preview.json()["stations"] == names

    campaign = create(api, image, [], filter_tag=tag, filter_identities=[], concurrency=2)
    assert campaign["state"] == "draft" and campaign["counts"]["pending"] == 5
    start(api, campaign["id"])

    done = set()
    started_order = []
    while len(done) < 5:
        # Whatever is running, never more than two at once: take each update that arrives.
        running = eventually(lambda: updates_received(
            [c for c in clients if c.identity not in done and c.identity not in started_order]))
        started_order += list(running)
        in_progress = [name for name in started_order if name not in done]
        assert len(in_progress) <= 2, in_progress
        counts = api.get(f"/firmware-campaigns/{campaign['id']}/").json()["counts"]
        assert counts["in_progress"] <= 2
        for name, payload in running.items():
            install(clients[names.index(name)], payload)
            done.add(name)
    assert started_order == names  # turn order is identity order
    body = campaign_state(api, campaign["id"], "completed")
    assert body["counts"]["succeeded"] == 5 and body["counts"]["failed"] == 0
    assert body["counts"]["percent"] == 100
    from stations.models import Station
    assert set(Station.objects.filter(identity__in=names).values_list(
        "firmware_version", flat=True)) == {NEW_VERSION}


def test_the_canary_pauses_the_campaign_and_resume_goes_on(api, connect_station):
    names = identities(4, "CAN")
    clients = [firmware_station(connect_station, name) for name in names]
    campaign = create(api, firmware_image(), names, concurrency=4, canary_size=2,
                      failure_threshold=0.4)
    start(api, campaign["id"])
    first = next_update(clients[0])
    second = next_update(clients[1])
    time.sleep(QUIET)
    assert updates_received(clients[2:]) == {}  # the canary goes alone
    report(clients[0], first, DOWNLOAD_FAILURE)
    install(clients[1], second)

    body = campaign_state(api, campaign["id"], "auto_paused")
    assert "canary: 1 of 2 failed (50% > 40%)" in body["state_reason"]
    time.sleep(QUIET)
    assert updates_received(clients[2:]) == {}
    failures = api.get(f"/firmware-campaigns/{campaign['id']}/targets/?state=failed").json()
    assert [(row["station"], row["last_status"]) for row in failures["results"]] == [
        (names[0], "DownloadFailed")]

    assert api.post(f"/firmware-campaigns/{campaign['id']}/resume/").status_code == 200
    for client in clients[2:]:
        install(client, next_update(client))
    body = campaign_state(api, campaign["id"], "completed")
    assert (body["counts"]["succeeded"], body["counts"]["failed"]) == (3, 1)


def test_pause_resume_and_cancel(api, connect_station):
    names = identities(3, "PRC")
    clients = [firmware_station(connect_station, name) for name in names]
    campaign = create(api, firmware_image(), names, concurrency=1, retries=2)
    pk = campaign["id"]
    start(api, pk)
    first = next_update(clients[0])
    assert api.post(f"/firmware-campaigns/{pk}/pause/").json()["state"] == "paused"
    install(clients[0], first)  # the running update goes on and is counted
    eventually(lambda: target_states(pk)[names[0]] == "succeeded")
    time.sleep(QUIET)
    assert got_update(clients[1]) is None

    assert api.post(f"/firmware-campaigns/{pk}/resume/").json()["state"] == "running"
    second = next_update(clients[1])
    body = api.post(f"/firmware-campaigns/{pk}/cancel/").json()
    assert body["state"] == "cancelled"
    assert api.post(f"/firmware-campaigns/{pk}/resume/").status_code == 409
    report(clients[1], second, DOWNLOAD_FAILURE)  # retries left, but cancelled: failed
    eventually(lambda: target_states(pk) == {names[0]: "succeeded", names[1]: "failed",
                                             names[2]: "skipped"})
    time.sleep(QUIET)
    assert got_update(clients[2]) is None
    counts = api.get(f"/firmware-campaigns/{pk}/").json()["counts"]
    assert (counts["succeeded"], counts["failed"], counts["skipped"], counts["done"]) == (1, 1, 1, 3)


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_a_station_offline_at_its_turn_is_updated_when_it_is_back(api, connect_station, version):
    names = identities(2, "OFF")
    online = firmware_station(connect_station, names[0], version)
    gone = firmware_station(connect_station, names[1], version)
    gone.close()
    from stations.models import Station
    eventually(lambda: not Station.objects.get(identity=names[1]).online)
    campaign = create(api, firmware_image(), names, concurrency=5)
    pk = campaign["id"]
    start(api, pk)
    install(online, next_update(online))
    eventually(lambda: target_states(pk) == {names[0]: "succeeded", names[1]: "waiting"})
    assert api.get(f"/firmware-campaigns/{pk}/").json()["state"] == "running"

    back = firmware_station(connect_station, names[1], version)
    install(back, next_update(back))
    body = campaign_state(api, pk, "completed")
    assert body["counts"]["succeeded"] == 2
    target = api.get(f"/firmware-campaigns/{pk}/targets/").json()["results"][1]
    assert (target["attempts"], target["firmware_version"]) == (1, NEW_VERSION)


def test_a_station_back_without_booting_is_started_by_the_beat(api, connect_station):
    names = identities(1, "BEAT")
    gone = firmware_station(connect_station, names[0])
    gone.close()
    from stations.models import Station
    eventually(lambda: not Station.objects.get(identity=names[0]).online)
    campaign = create(api, firmware_image(), names)
    start(api, campaign["id"])
    eventually(lambda: target_states(campaign["id"]) == {names[0]: "waiting"})
    # Accepted before, it may come back and stay quiet: no BootNotification tells the campaign.
    back = connect_station(names[0], boot=False)
    back.answers["UpdateFirmware"] = {"status": "Accepted"}
    install(back, next_update(back))
    assert campaign_state(api, campaign["id"], "completed")["counts"]["succeeded"] == 1


def test_updates_start_only_inside_the_maintenance_window(api, connect_station):
    zone = "Asia/Kathmandu"  # UTC+05:45: the window is read in the campaign's timezone
    local_now = datetime.now(zoneinfo.ZoneInfo(zone))
    names = identities(2, "WIN")
    clients = [firmware_station(connect_station, name) for name in names]
    image = firmware_image()
    closed = create(api, image, names[:1], window_start=_clock(local_now + timedelta(hours=2)),
                    window_end=_clock(local_now + timedelta(hours=4)), timezone=zone)
    start(api, closed["id"])
    opened = create(api, image, names[1:], window_start=_clock(local_now - timedelta(hours=1)),
                    window_end=_clock(local_now + timedelta(hours=1)), timezone=zone)
    start(api, opened["id"])
    install(clients[1], next_update(clients[1]))
    campaign_state(api, opened["id"], "completed")
    time.sleep(QUIET)
    assert got_update(clients[0]) is None
    assert target_states(closed["id"]) == {names[0]: "pending"}
    assert api.get(f"/firmware-campaigns/{closed['id']}/").json()["state"] == "running"
    assert api.post(f"/firmware-campaigns/{closed['id']}/cancel/").status_code == 200


def test_a_failed_station_is_retried(api, connect_station):
    names = identities(1, "RTY")
    client = firmware_station(connect_station, names[0])
    answers = iter([{"status": "Rejected"}, {"status": "Accepted"}])
    client.answers["UpdateFirmware"] = lambda payload: next(answers)
    campaign = create(api, firmware_image(), names, retries=1)
    start(api, campaign["id"])
    next_update(client)  # rejected: counted as an attempt, tried again
    install(client, next_update(client))
    body = campaign_state(api, campaign["id"], "completed")
    target = api.get(f"/firmware-campaigns/{campaign['id']}/targets/").json()["results"][0]
    assert (target["state"], target["attempts"]) == ("succeeded", 2)
    assert body["counts"]["succeeded"] == 1


def test_wrong_requests_get_4xx_with_reasons(api, connect_station):
    names = identities(1, "BAD")
    firmware_station(connect_station, names[0])
    image = firmware_image()
    cases = [
        ({"filter_identities": ["NO-SUCH-STATION"]}, "filter_identities"),
        ({"filter_identities": names, "timezone": "Mars/Olympus"}, "timezone"),
        ({"filter_identities": names, "window_start": "01:00"}, "window_end"),
        ({"filter_identities": names, "concurrency": 0}, "concurrency"),
        ({"filter_identities": names, "failure_threshold": 1.5}, "failure_threshold"),
        ({"filter_tag": f"none-{uuid.uuid4().hex[:6]}"}, "filter"),
    ]
    for fields, field in cases:
        answer = api.post("/firmware-campaigns/", json={"name": "bad", "image": image.pk, **fields})
        assert answer.status_code == 400, (fields, answer.text)
        assert field in answer.text, (fields, answer.text)
    assert api.post("/firmware-campaigns/", json={"name": "x", "image": 999999}).status_code == 400
    campaign = create(api, image, names)
    pk = campaign["id"]
    # The image of a campaign not yet started was never sent anywhere, but the campaign needs it.
    in_use = api.delete(f"/firmware-images/{image.pk}/")
    assert in_use.status_code == 409 and "campaign" in in_use.json()["detail"], in_use.text
    assert api.post(f"/firmware-campaigns/{pk}/pause/").status_code == 409
    assert api.get(f"/firmware-campaigns/{pk}/targets/?state=bogus").status_code == 400
    assert api.post(f"/firmware-campaigns/{pk}/start/").status_code == 200
    again = api.post(f"/firmware-campaigns/{pk}/start/")
    assert again.status_code == 409 and "running" in again.json()["detail"]
    assert api.delete(f"/firmware-campaigns/{pk}/").status_code == 409
    assert api.post(f"/firmware-campaigns/{pk}/cancel/").status_code == 200
    assert api.post("/station-tags/", json={"station": "NO-SUCH", "name": "x"}).status_code == 400


def _clock(moment):
    return moment.strftime("%H:%M")


@given(st.times(), st.times(), st.times())
def test_window_membership_is_an_interval_on_the_24h_circle(now, start_time, end_time):
    if start_time == end_time:
        return
    inside = time_in_window(now, start_time, end_time)
    if start_time < end_time:
        assert inside == (start_time <= now < end_time)
    else:  # wraps past midnight: the complement of [end, start)
        assert inside == (not (end_time <= now < start_time))


def test_window_examples():
    assert time_in_window(clock(2, 0), clock(1, 0), clock(5, 0))
    assert not time_in_window(clock(5, 0), clock(1, 0), clock(5, 0))
    assert time_in_window(clock(23, 30), clock(22, 0), clock(4, 0))
    assert time_in_window(clock(3, 59), clock(22, 0), clock(4, 0))
    assert not time_in_window(clock(12, 0), clock(22, 0), clock(4, 0))


def test_dashboard_pages_need_an_operator_and_answer_wrong_controls(csms, dashboard, connect_station):
    from tests.browser_helpers import DashboardClient

    names = identities(1, "DSH")
    firmware_station(connect_station, names[0])
    from stations.actions.campaigns import create_campaign
    campaign = create_campaign(name="dashboard", image=firmware_image(), filter_identities=names)
    with DashboardClient(base_url=csms.base_url) as anonymous:
        for path in ("/firmware-campaigns/", f"/firmware-campaigns/{campaign.pk}/",
                     f"/firmware-campaigns/{campaign.pk}/progress/",
                     f"/stations/{names[0]}/campaigns/"):
            answer = anonymous.get(path)
            assert answer.status_code == 302 and answer.headers["location"].startswith(
                "/accounts/login/")
        token = anonymous.csrf_token("/accounts/login/")
        answer = anonymous.post(f"/firmware-campaigns/{campaign.pk}/start/",
                                data={"csrfmiddlewaretoken": token})
        assert answer.status_code == 302 and answer.headers["location"].startswith(
            "/accounts/login/")
    page = f"/firmware-campaigns/{campaign.pk}/"
    answer = dashboard.submit(f"/firmware-campaigns/{campaign.pk}/resume/", {}, form_page=page)
    assert answer.status_code == 200 and "cannot become running" in answer.text
    answer = dashboard.submit(f"/firmware-campaigns/{campaign.pk}/explode/", {}, form_page=page)
    assert answer.status_code == 200 and "Unknown operation" in answer.text
    assert dashboard.get("/firmware-campaigns/999999/").status_code == 404
    assert dashboard.get(page).status_code == 200
    assert dashboard.get("/stations/NO-SUCH-STATION/campaigns/").status_code == 404


def test_advances_racing_each_other_start_each_station_once(api, connect_station):
    """The API's start, the worker's advance and four more advances at once (as two workers and
    the beat might run them): every station gets one UpdateFirmware."""
    import threading

    from django.db import connection

    from stations.actions.campaigns import advance_campaign
    from stations.models import FirmwareUpdate

    names = identities(6, "RACE")
    clients = [firmware_station(connect_station, name) for name in names]
    campaign = create(api, firmware_image(), names, concurrency=6)
    barrier = threading.Barrier(5)

    def advance():
        try:
            barrier.wait()
            advance_campaign(campaign["id"])
        finally:
            connection.close()

    threads = [threading.Thread(target=advance) for _ in range(4)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start(api, campaign["id"])
    for thread in threads:
        thread.join(60)
    for client in clients:
        install(client, next_update(client))
    campaign_state(api, campaign["id"], "completed")
    assert all(got_update(client) is None for client in clients)
    assert sorted(FirmwareUpdate.objects.filter(station__identity__in=names).values_list(
        "station__identity", flat=True)) == names
