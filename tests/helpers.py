"""Small helpers shared by the tests."""
import subprocess
import time
import uuid


def eventually(check, timeout=30, interval=0.05):
    """Poll `check` until it returns a truthy value; return it, or fail after `timeout` s.

    The timeout is generous on purpose: it costs nothing when the check passes, and a loaded
    machine must not fail a test that is about an outcome, not a speed.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        time.sleep(interval)


def send_command(api, identity, action, payload=None, wait=20):
    """POST a command for the station through the API (`api` fixture); the HTTP response."""
    return api.post(f"/stations/{identity}/commands/",
                    json={"action": action, "payload": payload or {}, "wait": wait})


def calls_before_marker(api, station):
    """Every call the CSMS sent `station` that the test has not taken yet, proven complete.

    A DataTransfer marker is queued now and awaited: the CSMS sends a station's calls one at a
    time in the order they were queued, so once the marker arrives everything queued before it
    has arrived too. Use it to assert that nothing (else) was sent, without sleeping.
    """
    marker = uuid.uuid4().hex
    response = send_command(api, station.identity, "DataTransfer",
                            {"vendorId": "org.csms.tests", "data": marker}, wait=0)
    assert response.status_code in (201, 202), response.text
    calls = []
    while True:
        message_id, action, payload = station.next_call()
        if action == "DataTransfer" and payload.get("data") == marker:
            station.reply(message_id, {"status": "Accepted"})
            return calls
        calls.append((message_id, action, payload))


def stop_process(process, timeout=10):
    """Ask a process started by a test to stop (SIGTERM); kill it if it has not within `timeout` s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
