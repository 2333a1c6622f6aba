"""Firmware over real WebSockets: an image uploaded, pushed, downloaded by the station over HTTP
from its own URL, followed through every status to the version confirmed at the next boot; 1.6
UpdateFirmware and SignedUpdateFirmware; refused answers; unknown requestIds; publications."""
import base64
import hashlib
import os
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import eventually

STATUSES_201 = ["DownloadScheduled", "Downloading", "DownloadPaused", "Downloading", "Downloaded",
                "SignatureVerified", "InstallScheduled", "Installing", "InstallRebooting",
                "Installed"]
CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


def upload_image(api, version="2.0", content=None, **fields):
    content = content if content is not None else os.urandom(200_000)
    data = {"name": "Main firmware", "version": version, "vendor": "TestVendor",
            "model": "TestModel", **fields}
    answer = api.post("/firmware-images/", data=data,
                      files={"file": ("fw-image.bin", content, "application/octet-stream")})
    assert answer.status_code == 201, answer.text
    return answer.json(), content


def push(api, identity, image, wait=10, **fields):
    answer = api.post("/firmware-updates/", json={"station": identity, "image": image["id"],
                                                  "wait": wait, **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def get_update(api, update):
    answer = api.get(f"/firmware-updates/{update['id']}/")
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_status(api, update, status):
    return eventually(lambda: (row := get_update(api, update))["status"] == status and row)


def accept(station, action="UpdateFirmware"):
    station.answers[action] = {"status": "Accepted"}


def test_update_201_downloads_over_http_and_confirms_version(api, connect_station, identity):
    image, content = upload_image(api)
    assert image["size"] == len(content)
    assert image["sha256"] == hashlib.sha256(content).hexdigest()
    assert image["md5"] == hashlib.md5(content).hexdigest()
    station = connect_station(identity)
    accept(station)
    update = push(api, identity, image)
    assert update["status"] == "accepted", update
    _, action, payload = station.next_call()
    assert action == "UpdateFirmware"
    assert payload["requestId"] == update["request_id"]
    location = payload["firmware"]["location"]
    assert location == update["location"] and location.endswith("/fw-image.bin")

    download = httpx.get(location, timeout=30)  # no login: the token is the key
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["X-Checksum-SHA256"] == image["sha256"]
    assert download.headers["Digest"] == "sha-256=" + base64.b64encode(
        hashlib.sha256(content).digest()).decode()
    assert download.headers["X-Firmware-Version"] == "2.0"
    partial = httpx.get(location, headers={"Range": "bytes=100-199"}, timeout=30)
    assert partial.status_code == 206 and partial.content == content[100:200]
    assert partial.headers["Content-Range"] == f"bytes 100-199/{len(content)}"

    for status in STATUSES_201:
        assert station.call("FirmwareStatusNotification",
                            {"status": status, "requestId": update["request_id"]}) == {}
    row = wait_status(api, update, "Installed")
    assert row["downloads"] == 1  # the resumed range is the same download
    assert [step["status"] for step in row["history"]][-len(STATUSES_201):] == STATUSES_201
    station.boot(chargingStation={"model": "TestModel", "vendorName": "TestVendor",
                                  "firmwareVersion": "2.0"})
    row = wait_status(api, update, "installed_confirmed")
    assert row["version_confirmed"] is True and row["reported_version"] == "2.0"
    assert row["is_final"] is True
    listed = api.get("/firmware-updates/", params={"station": identity}).json()
    assert [item["id"] for item in listed["results"]] == [update["id"]]


def test_boot_with_another_version_after_installed_fails(api, connect_station, identity):
    image, _ = upload_image(api, version="3.0")
    station = connect_station(identity)
    accept(station)
    update = push(api, identity, image)
    station.call("FirmwareStatusNotification", {"status": "Installed",
                                                "requestId": update["request_id"]})
    wait_status(api, update, "Installed")
    station.boot(chargingStation={"model": "TestModel", "vendorName": "TestVendor"})
    assert get_update(api, update)["status"] == "Installed"  # no version reported: no verdict
    station.boot()  # still 1.0
    row = wait_status(api, update, "failed")
    assert row["reported_version"] == "1.0" and row["version_confirmed"] is False


def test_update_16_plain_without_request_id(api, connect_station, identity):
    image, content = upload_image(api, version="1.6-b")
    station = connect_station(identity, version="1.6")
    station.answers["UpdateFirmware"] = {}  # 1.6 answers with an empty object
    update = push(api, identity, image, retries=3, retry_interval=30)
    assert update["status"] == "accepted" and update["action"] == "UpdateFirmware"
    _, action, payload = station.next_call()
    assert action == "UpdateFirmware"
    assert set(payload) == {"location", "retrieveDate", "retries", "retryInterval"}
    assert httpx.get(payload["location"], timeout=30).content == content
    for status in ("Downloading", "Downloaded", "Installing"):
        assert station.call("FirmwareStatusNotification", {"status": status}) == {}
    wait_status(api, update, "Installing")
    # 1.6 stations reboot into the new version and report Installed after the boot.
    station.boot(firmwareVersion="1.6-b")
    wait_status(api, update, "installed_confirmed")
    assert station.call("FirmwareStatusNotification", {"status": "Installed"}) == {}
    assert station.call("FirmwareStatusNotification", {"status": "Idle"}) == {}
    assert get_update(api, update)["status"] == "installed_confirmed"


def test_signed_update_16(api, connect_station, identity):
    image, _ = upload_image(api, version="1.7", signature="c2lnbmF0dXJl",
                            signing_certificate=CERTIFICATE)
    assert image["is_signed"] is True
    station = connect_station(identity, version="1.6")
    accept(station, "SignedUpdateFirmware")
    update = push(api, identity, image)
    assert update["action"] == "SignedUpdateFirmware" and update["status"] == "accepted"
    _, action, payload = station.next_call()
    assert action == "SignedUpdateFirmware"
    assert payload["requestId"] == update["request_id"]
    assert payload["firmware"]["signature"] == "c2lnbmF0dXJl"
    assert payload["firmware"]["signingCertificate"] == CERTIFICATE.strip()
    assert station.call("SignedFirmwareStatusNotification",
                        {"status": "Downloaded", "requestId": update["request_id"]}) == {}
    assert station.call("SignedFirmwareStatusNotification",
                        {"status": "InvalidSignature", "requestId": update["request_id"]}) == {}
    row = wait_status(api, update, "InvalidSignature")
    assert row["is_final"] is True


def test_expired_and_unknown_tokens_are_404(api, connect_station, identity, csms):
    from stations.models import FirmwareUpdate

    image, _ = upload_image(api)
    station = connect_station(identity)
    accept(station)
    update = push(api, identity, image)
    location = update["location"]
    assert httpx.head(location, timeout=30).status_code == 200
    token = location.rsplit("/", 2)[-2]
    unknown = location.replace(token, "unknown-" + token[8:])
    assert unknown != location and httpx.get(unknown, timeout=30).status_code == 404
    assert httpx.get(location.replace("fw-image.bin", "other.bin"), timeout=30).status_code == 404
    FirmwareUpdate.objects.filter(pk=update["id"]).update(
        download_expires_at=timezone.now() - timedelta(seconds=1))
    assert httpx.get(location, timeout=30).status_code == 404
    assert get_update(api, update)["downloads"] == 0


@pytest.mark.parametrize("answer", ["Rejected", "InvalidCertificate", "RevokedCertificate"])
def test_refused_answers(api, connect_station, identity, answer):
    image, _ = upload_image(api)
    station = connect_station(identity)
    station.answers["UpdateFirmware"] = {"status": answer}
    update = push(api, identity, image)
    assert update["status"] == "rejected" and update["answer"] == answer
    assert update["is_final"] is True


def test_accepted_canceled_cancels_the_running_update(api, connect_station, identity):
    image, _ = upload_image(api)
    station = connect_station(identity)
    accept(station)
    first = push(api, identity, image)
    station.call("FirmwareStatusNotification", {"status": "Downloading",
                                                "requestId": first["request_id"]})
    wait_status(api, first, "Downloading")
    station.answers["UpdateFirmware"] = {"status": "AcceptedCanceled"}
    second = push(api, identity, image)
    assert second["status"] == "accepted" and second["answer"] == "AcceptedCanceled"
    assert second["request_id"] == first["request_id"] + 1
    wait_status(api, first, "canceled")


def test_unknown_request_id_is_answered(api, connect_station, identity):
    station = connect_station(identity)
    assert station.call("FirmwareStatusNotification",
                        {"status": "Downloading", "requestId": 987654}) == {}
    assert station.call("FirmwareStatusNotification", {"status": "Idle"}) == {}
    assert station.call("PublishFirmwareStatusNotification",
                        {"status": "Published", "requestId": 987654,
                         "location": ["http://lc.local/fw.bin"]}) == {}
    station_16 = connect_station(identity + "-16", version="1.6")
    assert station_16.call("FirmwareStatusNotification", {"status": "Downloaded"}) == {}
    assert station_16.call("SignedFirmwareStatusNotification",
                           {"status": "Installed", "requestId": 5}) == {}


def test_offline_station_and_bad_requests(api, connect_station, identity):
    image, _ = upload_image(api)
    station = connect_station(identity)
    station.close()
    eventually(lambda: not api.get(f"/stations/{identity}/").json()["online"])
    update = push(api, identity, image, wait=0)
    assert update["status"] == "offline"

    no_file = api.post("/firmware-images/", data={"name": "x", "version": "1"})
    assert no_file.status_code == 400 and "file or an external URL" in no_file.json()["detail"]
    unknown = api.post("/firmware-updates/", json={"station": "nobody-here", "image": image["id"]})
    assert unknown.status_code == 400 and "station" in unknown.json()["errors"]
    other, _ = upload_image(api, vendor="OtherVendor")
    refused = api.post("/firmware-updates/", json={"station": identity, "image": other["id"]})
    assert refused.status_code == 400 and "force" in refused.json()["detail"]
    forced = api.post("/firmware-updates/", json={"station": identity, "image": other["id"],
                                                  "force": True})
    assert forced.status_code == 201
    assert api.delete(f"/firmware-images/{image['id']}/").status_code == 409
    unused, _ = upload_image(api)
    assert api.delete(f"/firmware-images/{unused['id']}/").status_code == 204
    external = api.post("/firmware-images/", json={
        "name": "Vendor build", "version": "9", "external_url": "https://vendor.example/fw.bin"})
    assert external.status_code == 201 and external.json()["sha256"] == ""


def test_external_url_is_handed_over_as_is(api, connect_station, identity):
    external = api.post("/firmware-images/", json={
        "name": "Vendor build", "version": "9", "external_url": "https://vendor.example/fw.bin"})
    station = connect_station(identity)
    accept(station)
    update = push(api, identity, external.json())
    _, _, payload = station.next_call()
    assert payload["firmware"]["location"] == "https://vendor.example/fw.bin"
    assert update["location"] == "https://vendor.example/fw.bin"


def test_publish_and_unpublish_on_a_local_controller(api, connect_station, identity):
    image, content = upload_image(api)
    controller = connect_station(identity)
    controller.answers["PublishFirmware"] = {"status": "Accepted"}
    controller.answers["UnpublishFirmware"] = {"status": "Unpublished"}
    answer = api.post("/firmware-publications/", json={"station": identity, "image": image["id"],
                                                       "retries": 2, "wait": 10})
    assert answer.status_code == 201, answer.text
    publication = answer.json()
    assert publication["status"] == "accepted"
    _, action, payload = controller.next_call()
    assert action == "PublishFirmware"
    assert payload["checksum"] == hashlib.md5(content).hexdigest() and payload["retries"] == 2
    assert httpx.get(payload["location"], timeout=30).content == content
    controller.call("PublishFirmwareStatusNotification",
                    {"status": "Published", "requestId": payload["requestId"],
                     "location": ["http://lc.local/fw.bin"]})
    row = eventually(lambda: (row := api.get(f"/firmware-publications/{publication['id']}/")
                              .json())["status"] == "Published" and row)
    assert row["published_locations"] == ["http://lc.local/fw.bin"] and row["downloads"] == 1
    answer = api.post("/firmware-publications/unpublish/",
                      json={"station": identity, "image": image["id"], "wait": 10})
    assert answer.status_code == 201 and answer.json()["response"] == {"status": "Unpublished"}
    eventually(lambda: api.get(f"/firmware-publications/{publication['id']}/")
               .json()["status"] == "unpublished")
    station_16 = connect_station(identity + "-16", version="1.6")
    refused = api.post("/firmware-publications/", json={"station": station_16.identity,
                                                        "image": image["id"]})
    assert refused.status_code == 400 and "2.0.1" in refused.json()["detail"]


def test_celery_task_starts_an_update(api, connect_station, identity):
    from stations.models import FirmwareUpdate, Station
    from stations.tasks import start_firmware_update

    image, _ = upload_image(api)
    station = connect_station(identity)
    accept(station)
    update_pk = start_firmware_update.apply(args=[Station.objects.get(identity=identity).pk,
                                                  image["id"]], kwargs={"retries": 1}).get()
    _, action, payload = station.next_call()
    assert action == "UpdateFirmware" and payload["retries"] == 1
    update = FirmwareUpdate.objects.get(pk=update_pk)
    assert update.source == "task:firmware-update"
    eventually(lambda: FirmwareUpdate.objects.get(pk=update_pk).status == "accepted")


def test_notification_overtaking_the_answer_keeps_its_status(api, connect_station, identity):
    image, _ = upload_image(api)
    station = connect_station(identity)  # UpdateFirmware is not auto-answered here
    update = push(api, identity, image, wait=0)
    message_id, action, payload = station.next_call()
    station.call("FirmwareStatusNotification", {"status": "Downloading",
                                                "requestId": payload["requestId"]})
    station.reply(message_id, {"status": "Accepted"})
    row = eventually(lambda: (row := get_update(api, update))["answer"] == "Accepted" and row)
    assert row["status"] == "Downloading"
    assert [step["status"] for step in row["history"]] == ["sent", "Downloading"]


@given(size=st.integers(1, 10_000), first=st.one_of(st.none(), st.integers(0, 20_000)),
       last=st.one_of(st.none(), st.integers(0, 20_000)))
def test_byte_ranges_stay_inside_the_file(size, first, last):
    from stations.views.firmware import _parse_range

    header = f"bytes={'' if first is None else first}-{'' if last is None else last}"
    result = _parse_range(header, size)
    if first is None and last is None:
        assert result is None
    elif result != "unsatisfiable":
        start, end = result
        assert 0 <= start <= end < size
        if first is not None:
            assert start == first and end == min(last if last is not None else size - 1, size - 1)
        else:
            assert end == size - 1 and end - start + 1 == min(last, size)
    else:
        assert (first is not None and (first >= size or (last is not None and last < first))) \
            or (first is None and last == 0)
    assert _parse_range("", size) is None and _parse_range("bytes=0-1,5-6", size) is None
