"""The simulator's side of firmware, logs, display messages, customer information, DataTransfer,
GetTransactionStatus and SetNetworkProfile, against the real CSMS over real WebSockets and HTTP."""

import argparse
import base64
import gzip
import hashlib
import json
import os

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from csms.models import MessageLogEntry
from simulator import cli
from simulator.customer import split_parts
from simulator.firmware import expected_digest, next_version
from stations.models import Station
from tests.helpers import eventually, send_command

VERSIONS = ["2.0.1", "1.6"]


def station_calls(identity, action):
    """Payloads of the CALLs the station sent, oldest first, from the CSMS's message log."""
    entries = MessageLogEntry.objects.filter(identity=identity, action=action, direction="in", message_type=2)
    return [json.loads(entry.frame)[3] for entry in entries.order_by("id")]


def statuses(identity, action, expected):
    """The statuses the station reported with `action`, once it has reported `expected` (the log
    entry of the last may come a moment after the state it drove)."""
    found = eventually(lambda: len(calls := station_calls(identity, action)) >= len(expected) and calls)
    assert [payload["status"] for payload in found] == expected
    return found


def command(api, identity, action, payload):
    answer = send_command(api, identity, action, payload)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] in ("accepted", "rejected"), body
    return body["response"]


def upload_image(api, version, content):
    answer = api.post(
        "/firmware-images/",
        data={"name": "SimCharge firmware", "version": version, "vendor": "SimCharge", "model": "SimCharge AC22"},
        files={"file": (f"simcharge-{version}.bin", content, "application/octet-stream")},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def push(api, identity, image, **fields):
    answer = api.post("/firmware-updates/", json={"station": identity, "image": image["id"], "wait": 10, **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def update_status(api, update):
    return api.get(f"/firmware-updates/{update['id']}/").json()["status"]


# --- firmware -----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_firmware_is_downloaded_checked_installed_and_booted(api, simulator, simulated_station, identity, version):
    station = simulated_station(identity, version, reboot_seconds=0.1, firmware_install_seconds=0.1)
    content = os.urandom(300_000)
    image = upload_image(api, "3.1.4", content)
    update = push(api, identity, image)
    assert update["status"] not in ("rejected", "offline", "failed"), update
    eventually(lambda: update_status(api, update) == "installed_confirmed")
    assert simulator.call(lambda: station.firmware_version) == "3.1.4"
    # The bytes the station fetched are the image's, checked against the SHA-256 the CSMS sent.
    ((_url, size, sha256, new_version),) = simulator.call(lambda: list(station.firmware.downloaded))
    assert (size, sha256, new_version) == (len(content), hashlib.sha256(content).hexdigest(), "3.1.4")
    steps = [status for _, status in simulator.call(lambda: list(station.firmware.history))]
    assert steps == ["Downloading", "Downloaded", "Installing", "InstallRebooting", "Installed"]
    if version == "2.0.1":
        statuses(identity, "FirmwareStatusNotification", steps)
        assert Station.objects.get(identity=identity).boot_reason == "FirmwareUpdate"
    else:  # 1.6 has no InstallRebooting
        statuses(identity, "FirmwareStatusNotification", ["Downloading", "Downloaded", "Installing", "Installed"])
    assert Station.objects.get(identity=identity).firmware_version == "3.1.4"
    assert simulator.call(lambda: station.boot_count) == 2


@pytest.mark.parametrize(
    "option, expected",
    [
        ({"firmware_download_fails": True}, ["Downloading", "Downloading", "DownloadFailed"]),
        ({"firmware_sha256": "00" * 32}, ["Downloading", "Downloading", "DownloadFailed"]),
        ({"firmware_install_fails": True}, ["Downloading", "Downloaded", "Installing", "InstallationFailed"]),
    ],
    ids=["download-fails", "checksum-mismatch", "install-fails"],
)
def test_firmware_failures_are_reported_after_the_retries(
    api, simulator, simulated_station, identity, option, expected
):
    station = simulated_station(identity, "2.0.1", firmware_install_seconds=0.1, **option)
    image = upload_image(api, "9.9.9", os.urandom(5_000))
    update = push(api, identity, image, retries=1, retry_interval=0)
    eventually(lambda: update_status(api, update) == expected[-1])
    reported = statuses(identity, "FirmwareStatusNotification", expected)
    assert {payload["requestId"] for payload in reported} == {update["request_id"]}
    assert simulator.call(lambda: station.firmware_version) == "2.4.1"
    assert simulator.call(lambda: station.boot_count) == 1


def test_signed_firmware_on_16_reports_signature_verified(api, simulator, simulated_station, identity):
    station = simulated_station(identity, "1.6", reboot_seconds=0.1, firmware_install_seconds=0.1)
    answer = api.post(
        "/firmware-images/",
        data={"name": "signed", "version": "2.0.0", "vendor": "SimCharge", "model": "SimCharge AC22",
              "signature": "c2lnbmF0dXJl",
              "signing_certificate": "-----BEGIN CERTIFICATE-----\nMIIBsim\n-----END CERTIFICATE-----\n"},
        files={"file": ("signed.bin", os.urandom(2_000), "application/octet-stream")},
    )
    assert answer.status_code == 201, answer.text
    update = push(api, identity, answer.json())
    eventually(lambda: update_status(api, update) == "installed_confirmed")
    reported = statuses(
        identity, "SignedFirmwareStatusNotification",
        ["Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting", "Installed"],
    )
    assert {payload["requestId"] for payload in reported} == {update["request_id"]}
    assert simulator.call(lambda: station.firmware_version) == "2.0.0"


def test_local_controller_publishes_and_unpublishes_firmware(api, simulator, simulated_station, identity):
    station = simulated_station(identity, "2.0.1")
    content = os.urandom(20_000)
    image = upload_image(api, "4.0.0", content)
    answer = api.post("/firmware-publications/", json={"station": identity, "image": image["id"], "wait": 10})
    assert answer.status_code == 201, answer.text
    publication = eventually(
        lambda: (row := api.get(f"/firmware-publications/{answer.json()['id']}/").json())["status"] == "Published"
        and row
    )
    md5 = hashlib.md5(content).hexdigest()
    assert publication["published_locations"] == [f"http://{identity.lower()}.local/firmware/{md5}.bin"]
    statuses(
        identity, "PublishFirmwareStatusNotification", ["Downloading", "Downloaded", "ChecksumVerified", "Published"]
    )
    body = {"station": identity, "image": image["id"], "wait": 10}
    unpublished = api.post("/firmware-publications/unpublish/", json=body)
    assert unpublished.status_code == 201 and unpublished.json()["response"] == {"status": "Unpublished"}
    assert simulator.call(lambda: station.publications.published) == {}
    again = api.post("/firmware-publications/unpublish/", json=body)
    assert again.json()["response"] == {"status": "NoFirmware"}


# --- logs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version, kind, options",
    [
        ("2.0.1", "DiagnosticsLog", {}),
        ("1.6", "Diagnostics", {"log_upload_method": "POST", "log_binary": True}),
        ("1.6", "SecurityLog", {"log_upload_method": "POST"}),
    ],
    ids=["2.0.1-GetLog-PUT", "1.6-GetDiagnostics-POST-gzip", "1.6-GetLog-POST"],
)
def test_log_is_uploaded_and_downloadable_byte_for_byte(
    api, simulator, simulated_station, identity, version, kind, options
):
    station = simulated_station(identity, version, log_size_bytes=6000, **options)
    answer = api.post("/log-requests/", json={"station": identity, "kind": kind, "wait": 10})
    assert answer.status_code == 201, answer.text
    log_request = answer.json()
    done = eventually(
        lambda: (row := api.get(f"/log-requests/{log_request['id']}/").json())["status"] == "Uploaded" and row
    )
    ((_url, name, body),) = simulator.call(lambda: list(station.logs.uploaded))
    downloaded = api.get(
        f"/log-requests/{log_request['id']}/download/", headers={"Accept": "application/octet-stream"}
    )
    assert downloaded.status_code == 200 and downloaded.content == body
    text = gzip.decompress(body) if options.get("log_binary") else body
    assert len(text) >= 6000 and b"BootNotification" in text  # the station's own recent messages
    assert done["size"] == len(body)
    action = "DiagnosticsStatusNotification" if kind == "Diagnostics" else "LogStatusNotification"
    statuses(identity, action, ["Uploading", "Uploaded"])
    if kind == "Diagnostics":
        assert name.endswith(".log.gz")


def test_oversized_log_is_refused_and_reported_as_upload_failure(api, simulator, simulated_station, identity):
    station = simulated_station(identity, "2.0.1", log_size_bytes=settings.LOG_UPLOAD_MAX_BYTES + 1)
    body = {"station": identity, "kind": "DiagnosticsLog", "retries": 0, "wait": 10}
    answer = api.post("/log-requests/", json=body)
    assert answer.status_code == 201, answer.text
    eventually(lambda: api.get(f"/log-requests/{answer.json()['id']}/").json()["status"] == "UploadFailure")
    statuses(identity, "LogStatusNotification", ["Uploading", "UploadFailure"])
    assert simulator.call(lambda: station.logs.uploaded) == []
    assert api.get(f"/log-requests/{answer.json()['id']}/download/").status_code == 404


# --- display messages ---------------------------------------------------------------------------


def message(message_id, priority, content, **fields):
    return {"id": message_id, "priority": priority, "message": {"format": "UTF8", "content": content}, **fields}


def test_display_messages_set_listed_shown_and_cleared(api, simulator, simulated_station, identity):
    station = simulated_station(identity, "2.0.1", display_formats=("ASCII", "UTF8"), report_items_per_part=2)

    def set_message(info):
        return command(api, identity, "SetDisplayMessage", {"message": info})["status"]

    assert set_message(message(1, "NormalCycle", "Welcome")) == "Accepted"
    assert set_message(message(2, "InFront", "Tariff 0.30 EUR/kWh")) == "Accepted"
    assert set_message(message(3, "NormalCycle", "Open 24/7")) == "Accepted"
    assert set_message({**message(4, "AlwaysFront", "x"), "message": {"format": "HTML", "content": "<b>x</b>"}}) == (
        "NotSupportedMessageFormat"
    )
    assert set_message(message(5, "InFront", "Your session", transactionId="no-such-tx")) == "UnknownTransaction"
    assert simulator.call(lambda: station.display.shown()["id"]) == 2  # InFront before the cycle
    assert set_message(message(6, "AlwaysFront", "Out of order soon")) == "Accepted"
    assert simulator.call(lambda: station.display.shown()["id"]) == 6

    assert command(api, identity, "GetDisplayMessages", {"requestId": 41})["status"] == "Accepted"
    parts = eventually(lambda: len(found := station_calls(identity, "NotifyDisplayMessages")) == 2 and found)
    assert [part["tbc"] for part in parts] == [True, False]
    assert [info["id"] for part in parts for info in part["messageInfo"]] == [1, 2, 3, 6]
    assert command(api, identity, "GetDisplayMessages", {"requestId": 42, "priority": "AlwaysFront"}) == {
        "status": "Accepted"
    }
    newest = lambda: station_calls(identity, "NotifyDisplayMessages")[-1]
    eventually(lambda: [info["id"] for info in newest()["messageInfo"]] == [6])

    assert command(api, identity, "ClearDisplayMessage", {"id": 6}) == {"status": "Accepted"}
    assert command(api, identity, "ClearDisplayMessage", {"id": 6}) == {"status": "Unknown"}
    assert simulator.call(lambda: station.display.shown()["id"]) == 2
    assert command(api, identity, "GetDisplayMessages", {"requestId": 43, "id": [6]}) == {"status": "Unknown"}


# --- customer information -----------------------------------------------------------------------


def test_display_messages_through_the_operator_api(api, simulator, simulated_station, identity):
    station = simulated_station(identity, "2.0.1", display_priorities=("InFront", "NormalCycle"))

    def push_message(**fields):
        answer = api.post("/display-messages/", json={"station": identity, "wait": 10, **fields})
        assert answer.status_code == 201, answer.text
        return answer.json()

    shown = push_message(message_id=11, priority="InFront", content="Welcome to SimCharge")
    assert shown["status"] == "accepted", shown
    refused = push_message(message_id=12, priority="AlwaysFront", content="Urgent")
    assert refused["status"] == "rejected" and "NotSupportedPriority" in refused["rejection_reason"], refused
    assert simulator.call(lambda: station.display.shown()["message"]["content"]) == "Welcome to SimCharge"
    answer = api.post("/display-messages/get/", json={"station": identity, "wait": 10})
    assert answer.status_code in (201, 202), answer.text
    report = eventually(
        lambda: (row := api.get(f"/display-message-reports/{answer.json()['id']}/").json())["status"] == "complete"
        and row
    )
    assert [item.get("id", item.get("message_id")) for item in report["messages"]] == [11], report
    cleared = api.request("DELETE", f"/display-messages/{shown['id']}/", json={"wait": 10})
    assert cleared.status_code == 200 and cleared.json()["status"] == "cleared", cleared.text
    assert simulator.call(lambda: station.display.shown()) is None


# --- customer information -----------------------------------------------------------------------


def test_customer_information_in_three_parts_and_clear_forgets_the_token(api, simulator, simulated_station, identity):
    station = simulated_station(identity, "2.0.1")
    token = {"idToken": "04AABBCCDD", "type": "ISO14443"}
    assert command(
        api, identity, "SendLocalList",
        {"versionNumber": 3, "updateType": "Full",
         "localAuthorizationList": [{"idToken": token, "idTokenInfo": {"status": "Accepted"}}]},
    ) == {"status": "Accepted"}
    answer = api.post(
        "/customer-information/",
        json={"station": identity, "report": True, "clear": True, "id_token": "04AABBCCDD", "wait": 10},
    )
    assert answer.status_code == 201, answer.text
    request = eventually(
        lambda: (row := api.get(f"/customer-information/{answer.json()['id']}/").json())["status"] == "complete" and row
    )
    # The message log's entries may come a moment after the parts were applied.
    parts = eventually(lambda: len(found := station_calls(identity, "NotifyCustomerInformation")) == 3 and found)
    assert [(part["seqNo"], part.get("tbc", False), part["requestId"]) for part in parts] == [
        (0, True, request["request_id"]), (1, True, request["request_id"]), (2, False, request["request_id"]),
    ]
    document = "".join(part["data"] for part in parts)
    assert request["part_count"] == 3 and request["document"] == document
    assert "04AABBCCDD" in document and "local list (version 3)" in document and "cleared" in document
    assert simulator.call(lambda: "04AABBCCDD" in station.local_auth.entries) is False
    answer = command(api, identity, "CustomerInformation", {"requestId": 8, "report": True, "clear": False})
    assert answer["status"] == "Invalid"


# --- DataTransfer, GetTransactionStatus, SetNetworkProfile --------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_data_transfer_both_ways(api, simulator, simulated_station, identity, version):
    station = simulated_station(identity, version)
    assert command(api, identity, "DataTransfer", {"vendorId": "SimCharge", "messageId": "Echo", "data": "ping"}) == {
        "status": "Accepted", "data": "ping",
    }
    assert command(api, identity, "DataTransfer", {"vendorId": "SimCharge", "messageId": "Nope"}) == {
        "status": "UnknownMessageId"
    }
    assert command(api, identity, "DataTransfer", {"vendorId": "com.other"}) == {"status": "UnknownVendorId"}
    # From the station: no vendor handler registered for this vendor on the CSMS.
    answer = simulator.run(station.data_transfer("SimCharge", "Hello", "data"))
    assert answer["status"] == "UnknownVendorId"


def test_transaction_status_and_network_profile(api, simulator, simulated_station, identity):
    token = f"SIM{identity[3:].upper()}"
    assert api.post("/id-tokens/", json={"id_token": token, "type": "ISO14443"}).status_code == 201
    station = simulated_station(identity, "2.0.1", session_seconds=(60, 60))
    evse = station.evses[0]
    simulator.call(lambda: station.spawn(station.charge(evse, token)))
    transaction_id = eventually(lambda: simulator.call(lambda: evse.session and evse.session.transaction_id))
    assert command(api, identity, "GetTransactionStatus", {"transactionId": transaction_id}) == {
        "messagesInQueue": False, "ongoingIndicator": True,
    }
    assert command(api, identity, "GetTransactionStatus", {"transactionId": "unknown"}) == {
        "messagesInQueue": False, "ongoingIndicator": False,
    }
    assert command(api, identity, "GetTransactionStatus", {}) == {"messagesInQueue": False}
    simulator.call(lambda: evse.session.request_stop("Remote"))
    eventually(lambda: simulator.call(lambda: evse.session is None))

    connection = {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": "wss://csms.example/ocpp",
                  "messageTimeout": 30, "securityProfile": 2, "ocppInterface": "Wired0"}
    assert command(api, identity, "SetNetworkProfile", {"configurationSlot": 1, "connectionData": connection}) == {
        "status": "Accepted"
    }
    assert simulator.call(lambda: station.network_profiles) == {1: connection}
    answer = command(api, identity, "SetNetworkProfile", {"configurationSlot": 9, "connectionData": connection})
    assert answer["status"] == "Rejected"


# --- pure parts: digests, versions, customer-information parts, command-line options ----------


def test_expected_digest_sources_in_order():
    digest = hashlib.sha256(b"image").hexdigest()
    b64 = base64.b64encode(bytes.fromhex(digest)).decode()
    assert expected_digest("http://x/f.bin", {}, None) is None
    assert expected_digest("http://x/f.bin", {"digest": f"sha-256={b64}"}, None) == digest
    assert expected_digest("http://x/f.bin", {"x-checksum-sha256": digest.upper(), "digest": "sha-256=AAAA"}, None) == (
        digest
    )
    assert expected_digest(f"http://x/f.bin#sha256={digest}", {"x-checksum-sha256": "00"}, None) == digest
    assert expected_digest("http://x/f.bin#sha256=11", {}, "AB" * 32) == "ab" * 32


def test_next_version_sources_in_order():
    assert next_version("2.4.1", "http://x/a.bin", {"x-firmware-version": "7.0"}, "6.0") == "7.0"
    assert next_version("2.4.1", "http://x/a.bin", {}, "6.0") == "6.0"
    assert next_version("2.4.1", "http://x/simcharge-3.1.4.bin?t=1", {}, None) == "3.1.4"
    assert next_version("2.4.1", "http://x/image.bin", {}, None) == "2.4.2"
    assert next_version("beta", "http://x/image.bin", {}, None) == "beta.1"


@given(text=st.text(max_size=3000), parts=st.integers(min_value=1, max_value=8))
def test_customer_information_parts_rebuild_the_text(text, parts):
    pieces = split_parts(text, parts)
    assert "".join(pieces) == text
    assert len(pieces) >= parts and all(len(piece) <= 512 for piece in pieces)


def test_operation_options_reach_the_profile():
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    options = vars(parser.parse_args([
        "--fail-firmware-download", "SIM-00001,SIM-00003", "--fail-firmware-install", "all",
        "--firmware-sha256", "ab" * 32, "--firmware-next-version", "5.0", "--log-upload", "POST",
        "--log-binary", "--log-size", "9000", "--customer-information-parts", "4",
    ]))
    profile = cli.profile_from(options)
    assert profile.firmware_download_fails == ("SIM-00001", "SIM-00003") and profile.firmware_install_fails is True
    assert (profile.firmware_sha256, profile.firmware_next_version) == ("ab" * 32, "5.0")
    assert (profile.log_upload_method, profile.log_binary, profile.log_size_bytes) == ("POST", True, 9000)
    assert profile.customer_information_parts == 4
