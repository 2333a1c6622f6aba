"""The proof of firmware campaigns: 50 simulated stations (2.0.1 and 1.6) download the image the
CSMS serves, check its SHA-256, install and reboot; one download fails and one station is offline
at its turn, and the campaign ends with the right counts and versions."""
import os
import time
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.helpers import eventually

STATIONS = 50
FAILING, OFFLINE = 20, 30  # turn positions, both after the canary
IMAGE_VERSION = "3.1.4"
# Installs, reboots and reconnects kept short: the campaign, not the stations' pace, is tested.
QUICK = {"firmware_install_seconds": 0.1, "reboot_seconds": 0.1, "reconnect_min": 0.1,
         "reconnect_max": 0.3}


def test_campaign_over_50_simulated_stations(api, simulator, simulated_station):
    from stations.actions.firmware import create_image
    from stations.models import CampaignTarget, FirmwareUpdate, Station

    run = uuid.uuid4().hex[:6]
    names = [f"FLEET-{run}-{i:02d}" for i in range(STATIONS)]
    stations = {}
    for position, name in enumerate(names):
        stations[name] = simulated_station(
            name, "2.0.1" if position % 2 else "1.6", online=False, firmware_version="1.0",
            firmware_download_fails=position == FAILING, **QUICK)
    eventually(lambda: Station.objects.filter(identity__in=names, online=True).count() == STATIONS,
               timeout=120)
    offline_name = names[OFFLINE]
    simulator.stop(stations[offline_name])
    eventually(lambda: not Station.objects.get(identity=offline_name).online)

    image = create_image(name="fleet", version=IMAGE_VERSION, upload=SimpleUploadedFile(
        f"sim-{IMAGE_VERSION}.bin", os.urandom(256 * 1024)))
    created = api.post("/firmware-campaigns/", json={
        "name": f"fleet {run}", "image": image.pk, "filter_identities": names,
        "filter_firmware_version": "1.0", "concurrency": 10, "canary_size": 5,
        "failure_threshold": 0.2})
    assert created.status_code == 201, created.text
    pk = created.json()["id"]
    began = time.monotonic()
    assert api.post(f"/firmware-campaigns/{pk}/start/").status_code == 200

    def target(name):
        return CampaignTarget.objects.get(campaign_id=pk, station__identity=name)

    eventually(lambda: target(offline_name).state == "waiting", timeout=120)
    assert api.get(f"/firmware-campaigns/{pk}/").json()["state"] == "running"
    back = simulated_station(offline_name, "2.0.1" if OFFLINE % 2 else "1.6",
                             firmware_version="1.0", **QUICK)

    def finished():
        body = api.get(f"/firmware-campaigns/{pk}/").json()
        return body if body["state"] != "running" else None

    body = eventually(finished, timeout=180)
    elapsed = time.monotonic() - began
    counts = body["counts"]
    assert body["state"] == "completed", body
    assert (counts["succeeded"], counts["failed"], counts["skipped"], counts["waiting"],
            counts["pending"], counts["in_progress"]) == (49, 1, 0, 0, 0, 0), counts

    failed = api.get(f"/firmware-campaigns/{pk}/targets/?state=failed").json()["results"]
    assert [(row["station"], row["last_status"]) for row in failed] == [
        (names[FAILING], "DownloadFailed")]
    versions = dict(Station.objects.filter(identity__in=names).values_list(
        "identity", "firmware_version"))
    assert versions.pop(names[FAILING]) == "1.0"
    assert set(versions.values()) == {IMAGE_VERSION}
    assert simulator.call(lambda: back.firmware_version) == IMAGE_VERSION
    # Every station downloaded the image from the CSMS once (the failing one never got it).
    downloads = dict(FirmwareUpdate.objects.filter(image=image).values_list(
        "station__identity", "downloads"))
    assert downloads.pop(names[FAILING]) == 0
    assert set(downloads.values()) == {1}
    print(f"\n50-station campaign: {elapsed:.1f} s from start to completed")
