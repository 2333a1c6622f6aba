"""Logs and diagnostics end to end: GetLog (2.0.1, 1.6 security extension) and 1.6 GetDiagnostics
sent by the API, the station uploading to the one-time URL it was given (PUT, multipart POST, raw
POST), its notifications, and the file downloaded from the API byte for byte; refusals."""
import hashlib
import io
import queue
from datetime import timedelta

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from django.core.files.storage import default_storage
from django.utils import timezone

from stations.actions import logs as log_actions
from stations.models import LogRequest
from tests.helpers import eventually

# A binary log: every byte value, NULs included, and a run of NULs at the end.
BINARY_LOG = bytes(range(256)) * 64 + b"\x00" * 1000


def answering(station, action, answer):
    """Answer `action` with `answer`; return a queue of the payloads the CSMS sent."""
    payloads = queue.Queue()

    def reply(payload):
        payloads.put(payload)
        return answer

    station.answers[action] = reply
    return payloads


def request_log(api, identity, kind="DiagnosticsLog", **extra):
    response = api.post("/log-requests/", json={"station": identity, "kind": kind, "wait": 10,
                                                **extra})
    assert response.status_code in (201, 202), response.text
    return response.json()


def settled(api, pk, status):
    return eventually(lambda: (lambda body: body if body["status"] == status else None)(
        api.get(f"/log-requests/{pk}/").json()))


def stored_files(log_request_pk):
    row = LogRequest.objects.get(pk=log_request_pk)
    folder = f"logs/{row.station_id}"
    if not default_storage.exists(folder):
        return []
    return default_storage.listdir(folder)[1]


def test_get_log_201_put_upload_downloads_byte_for_byte(api, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    sent = answering(station, "GetLog", {"status": "Accepted", "filename": "diagnostics.bin"})
    created = request_log(api, identity, "DiagnosticsLog",
                          oldest_timestamp="2026-12-01T00:00:00Z",
                          latest_timestamp="2026-12-02T00:00:00Z", retries=2)
    payload = sent.get(timeout=10)
    assert payload["logType"] == "DiagnosticsLog"
    assert payload["requestId"] == created["request_id"] == created["id"]
    assert payload["retries"] == 2
    assert payload["log"]["oldestTimestamp"].startswith("2026-12-01T00:00:00")
    url = payload["log"]["remoteLocation"]
    assert url == created["upload_url"] and "/logs/upload/" in url
    settled(api, created["id"], "Accepted")

    station.call("LogStatusNotification", {"status": "Uploading", "requestId": payload["requestId"]})
    assert api.get(f"/log-requests/{created['id']}/").json()["status"] == "Uploading"
    upload = httpx.put(url, content=BINARY_LOG, timeout=30)
    assert upload.status_code == 201, upload.text
    assert upload.json()["sha256"] == hashlib.sha256(BINARY_LOG).hexdigest()
    assert api.get(f"/log-requests/{created['id']}/").json()["status"] == "Received"
    station.call("LogStatusNotification", {"status": "Uploaded", "requestId": payload["requestId"]})

    body = settled(api, created["id"], "Uploaded")
    assert body["size"] == len(BINARY_LOG) and body["file_name"] == "diagnostics.bin"
    assert body["station_status"] == "Uploaded"
    download = api.get(body["download_url"].split("/api/v1", 1)[1])
    assert download.status_code == 200
    assert download.content == BINARY_LOG
    assert download.headers["content-disposition"] == 'attachment; filename="diagnostics.bin"'
    # The same bytes when the client asks for them as a file.
    assert api.get(f"/log-requests/{created['id']}/download/",
                   headers={"Accept": "application/octet-stream"}).content == BINARY_LOG

    # The token was for one upload.
    again = httpx.put(url, content=b"something else", timeout=30)
    assert again.status_code == 410 and "used" in again.json()["detail"]
    assert api.get(f"/log-requests/{created['id']}/download/").content == BINARY_LOG
    assert len(stored_files(created["id"])) == 1


def test_16_security_log_by_multipart_post(api, connect_station, identity):
    station = connect_station(identity, "1.6")
    sent = answering(station, "GetLog", {"status": "Accepted", "filename": "security.log"})
    created = request_log(api, identity, "SecurityLog")
    payload = sent.get(timeout=10)
    assert payload["logType"] == "SecurityLog" and payload["requestId"] == created["id"]
    station.call("LogStatusNotification", {"status": "Uploading", "requestId": created["id"]})
    # One file part under any field name, next to an ordinary field.
    upload = httpx.post(payload["log"]["remoteLocation"], data={"note": "from the station"},
                        files={"upload_file": ("sec-2026.log", BINARY_LOG, "text/plain")},
                        timeout=30)
    assert upload.status_code == 201, upload.text
    station.call("LogStatusNotification", {"status": "Uploaded", "requestId": created["id"]})
    body = settled(api, created["id"], "Uploaded")
    assert body["kind"] == "SecurityLog" and body["sha256"] == hashlib.sha256(BINARY_LOG).hexdigest()
    assert api.get(f"/log-requests/{created['id']}/download/").content == BINARY_LOG
    listed = api.get("/log-requests/", params={"station": identity, "uploaded": "true"}).json()
    assert [row["id"] for row in listed["results"]] == [created["id"]]


def test_16_get_diagnostics_and_its_status_notifications(api, connect_station, identity):
    station = connect_station(identity, "1.6")
    sent = answering(station, "GetDiagnostics", {"fileName": "diag-CS.zip"})
    created = request_log(api, identity, "Diagnostics", oldest_timestamp="2026-12-01T00:00:00Z")
    payload = sent.get(timeout=10)
    assert set(payload) == {"location", "startTime"}
    assert payload["location"] == created["upload_url"]
    body = settled(api, created["id"], "Accepted")
    assert body["request_id"] == created["id"] and body["file_name"] == "diag-CS.zip"

    station.call("DiagnosticsStatusNotification", {"status": "Uploading"})
    settled(api, created["id"], "Uploading")
    # A raw POST to the location with the file name appended, as some stations do.
    upload = httpx.post(payload["location"] + "diag-CS.zip", content=BINARY_LOG,
                        headers={"Content-Type": "application/octet-stream"}, timeout=30)
    assert upload.status_code == 201, upload.text
    station.call("DiagnosticsStatusNotification", {"status": "Uploaded"})
    body = settled(api, created["id"], "Uploaded")
    download = api.get(f"/log-requests/{created['id']}/download/")
    assert download.content == BINARY_LOG
    assert 'filename="diag-CS.zip"' in download.headers["content-disposition"]


def test_16_diagnostics_upload_failed_ends_the_request(api, connect_station, identity):
    station = connect_station(identity, "1.6")
    answering(station, "GetDiagnostics", {})
    created = request_log(api, identity, "Diagnostics")
    settled(api, created["id"], "Accepted")
    station.call("DiagnosticsStatusNotification", {"status": "UploadFailed"})
    body = settled(api, created["id"], "UploadFailed")
    assert body["download_url"] is None
    assert api.get(f"/log-requests/{created['id']}/download/").status_code == 404


def test_oversized_upload_is_refused_and_nothing_is_stored(api, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    sent = answering(station, "GetLog", {"status": "Accepted"})
    created = request_log(api, identity)
    url = sent.get(timeout=10)["log"]["remoteLocation"]
    LogRequest.objects.filter(pk=created["id"]).update(max_bytes=4096)

    declared = httpx.put(url, content=b"x" * 4097, timeout=30)
    assert declared.status_code == 413 and "4096 bytes" in declared.json()["detail"]
    # Chunked, without a Content-Length: counted as it streams.
    chunked = httpx.put(url, content=iter([b"y" * 3000, b"z" * 3000]), timeout=30)
    assert chunked.status_code == 413
    multipart = httpx.post(url, files={"file": ("big.log", b"m" * 5000)}, timeout=30)
    assert multipart.status_code == 413
    row = LogRequest.objects.get(pk=created["id"])
    assert not row.file and row.uploaded_at is None and row.size is None
    assert stored_files(created["id"]) == []

    # A refused upload does not use the token up: one within the limit is taken.
    fitting = httpx.put(url, content=b"f" * 4096, timeout=30)
    assert fitting.status_code == 201
    assert api.get(f"/log-requests/{created['id']}/download/").content == b"f" * 4096


def test_late_upload_is_refused_and_the_request_expires(api, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    sent = answering(station, "GetLog", {"status": "Accepted"})
    created = request_log(api, identity)
    url = sent.get(timeout=10)["log"]["remoteLocation"]
    station.call("LogStatusNotification", {"status": "Uploading", "requestId": created["id"]})
    LogRequest.objects.filter(pk=created["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1))

    late = httpx.put(url, content=b"too late", timeout=30)
    assert late.status_code == 410 and "expired" in late.json()["detail"].lower()
    assert log_actions.sweep_expired() >= 1
    body = api.get(f"/log-requests/{created['id']}/").json()
    assert (body["status"], body["station_status"]) == ("Expired", "Uploading")
    assert stored_files(created["id"]) == []
    # A late notification does not revive it.
    station.call("LogStatusNotification", {"status": "Uploaded", "requestId": created["id"]})
    assert api.get(f"/log-requests/{created['id']}/").json()["status"] == "Expired"


def test_rejected_request_takes_no_upload(api, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    sent = answering(station, "GetLog", {"status": "Rejected"})
    created = request_log(api, identity, "SecurityLog")
    url = sent.get(timeout=10)["log"]["remoteLocation"]
    settled(api, created["id"], "Rejected")
    assert httpx.put(url, content=b"log", timeout=30).status_code == 410


def test_accepted_canceled_ends_the_ongoing_request(api, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    answering(station, "GetLog", {"status": "Accepted"})
    first = request_log(api, identity)
    settled(api, first["id"], "Accepted")
    answering(station, "GetLog", {"status": "AcceptedCanceled"})
    second = request_log(api, identity)
    settled(api, second["id"], "Accepted")
    assert api.get(f"/log-requests/{first['id']}/").json()["status"] == "Canceled"


def test_notifications_for_unknown_requests_are_answered(api, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    assert station.call("LogStatusNotification", {"status": "Uploaded", "requestId": 987654321}) == {}
    assert station.call("LogStatusNotification", {"status": "Idle"}) == {}
    station_16 = connect_station(identity + "-16", "1.6")
    assert station_16.call("DiagnosticsStatusNotification", {"status": "Idle"}) == {}
    assert station_16.call("LogStatusNotification", {"status": "Uploading", "requestId": 5}) == {}


def test_upload_address_refusals(csms, api, connect_station, identity):
    assert httpx.put(f"{csms.base_url}/logs/upload/no-such-token/", content=b"x").status_code == 404
    station = connect_station(identity, "2.0.1")
    sent = answering(station, "GetLog", {"status": "Accepted"})
    request_log(api, identity)
    url = sent.get(timeout=10)["log"]["remoteLocation"]
    wrong_method = httpx.get(url)
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "PUT, POST"
    form_without_file = (b'--B\r\nContent-Disposition: form-data; name="only"\r\n\r\na field\r\n'
                         b"--B--\r\n")
    empty_form = httpx.post(url, content=form_without_file,
                            headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert empty_form.status_code == 400 and "no file part" in empty_form.json()["detail"]
    broken_form = httpx.post(url, content=b"x", headers={"Content-Type": "multipart/form-data"})
    assert broken_form.status_code == 400
    # Neither used the token up.
    assert httpx.put(url, content=b"the log").status_code == 201


def test_api_refuses_what_cannot_be_sent(api, connect_station, identity):
    connect_station(identity, "2.0.1")
    wrong_kind = api.post("/log-requests/", json={"station": identity, "kind": "Diagnostics"})
    assert wrong_kind.status_code == 400 and "not available on OCPP 2.0.1" in wrong_kind.text
    window = api.post("/log-requests/", json={"station": identity,
                                              "oldest_timestamp": "2026-12-02T00:00:00Z",
                                              "latest_timestamp": "2026-12-01T00:00:00Z"})
    assert window.status_code == 400 and "after latest_timestamp" in window.text
    assert api.post("/log-requests/", json={"station": "nobody"}).status_code == 400
    assert not LogRequest.objects.filter(station__identity=identity).exists()


def test_offline_station_request_is_not_delivered(api, connect_station, identity):
    connect_station(identity, "2.0.1").close()
    eventually(lambda: not api.get(f"/stations/{identity}/").json()["online"])
    created = request_log(api, identity)
    assert settled(api, created["id"], "NotDelivered")["command"]["status"] == "offline"


@settings(max_examples=60, deadline=None)
@given(chunks=st.lists(st.binary(max_size=300), max_size=12), limit=st.integers(0, 2000))
def test_upload_sink_keeps_every_byte_up_to_the_limit_and_no_more(chunks, limit):
    sink = log_actions.UploadSink(limit)
    body = b"".join(chunks)
    try:
        try:
            for chunk in chunks:  # in the pieces a multipart parser hands over
                sink.write(chunk)
        except log_actions.UploadTooLarge as refusal:
            assert len(body) > limit and refusal.status == 413
            return
        assert len(body) <= limit and sink.size == len(body)
        assert sink.digest.hexdigest() == hashlib.sha256(body).hexdigest()
        sink.temporary.seek(0)
        assert sink.temporary.read() == body
    finally:
        sink.close()
    whole = log_actions.UploadSink(limit)
    whole.read_from(io.BytesIO(body))  # a raw body, read in pieces
    assert whole.digest.hexdigest() == hashlib.sha256(body).hexdigest()
    whole.close()


def test_the_task_requests_a_log(api, connect_station, identity):
    from stations import tasks
    from stations.models import Station

    station = connect_station(identity, "2.0.1")
    sent = answering(station, "GetLog", {"status": "Accepted"})
    pk = tasks.request_log(Station.objects.get(identity=identity).pk, "SecurityLog",
                           "2026-12-01T00:00:00Z")
    payload = sent.get(timeout=30)  # delivered by the worker, or the server's sweep
    assert payload["requestId"] == pk and payload["logType"] == "SecurityLog"
    assert payload["log"]["oldestTimestamp"].startswith("2026-12-01T00:00:00")
    assert settled(api, pk, "Accepted")["source"] == "task:request-log"
