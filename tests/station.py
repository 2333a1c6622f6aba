"""A test charging station: real OCPP-J over a real WebSocket, driven synchronously from tests.

A reader thread routes answers to the waiting `call()` and CSMS calls to `answers` (a function
per action, or a queue the test answers by hand with `next_call()` / `reply()`).
"""
import base64
import itertools
import json
import queue
import threading

from websockets.sync.client import connect

# How long to wait for an upgrade, an answer or a call by default: long, since it costs nothing
# when the CSMS answers, and a loaded machine must not fail a test that is not about speed.
WAIT = 30

DEFAULT_ANSWERS = {
    "Reset": {"status": "Accepted"},
    "TriggerMessage": {"status": "Accepted"},
    "ClearCache": {"status": "Accepted"},
    "ChangeAvailability": {"status": "Accepted"},
}


class CallFailed(Exception):
    def __init__(self, frame):
        super().__init__(f"{frame[2]}: {frame[3]}")
        self.code = frame[2]
        self.description = frame[3]
        self.frame = frame


class StationClient:
    def __init__(self, ws_url, identity, version="2.0.1", password=None, auto_answer=True,
                 subprotocols=None, connect_options=None):
        headers = {}
        if password is not None:
            token = base64.b64encode(f"{identity}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        self.identity = identity
        self.version = version
        self.socket = connect(
            f"{ws_url}/ocpp/{identity}",
            subprotocols=subprotocols or [f"ocpp{version}"],
            additional_headers=headers,
            open_timeout=WAIT,
            **(connect_options or {}),  # e.g. ssl= (wss), sock= (a chosen source address)
        ).__enter__()
        self.auto_answer = auto_answer
        self.answers = dict(DEFAULT_ANSWERS)
        self.received_calls = queue.Queue()
        self.raw_frames = queue.Queue()
        self._pending = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.closed = threading.Event()
        self.close_code = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # --- station -> CSMS --------------------------------------------------------------------

    def call(self, action, payload, timeout=WAIT):
        """Send a CALL and return the CALLRESULT payload; raise CallFailed on a CALLERROR."""
        message_id = str(next(self._ids))
        return self.send_frame([2, message_id, action, payload], message_id, timeout)

    def send_frame(self, frame, answer_id, timeout=WAIT):
        """Send any frame (or raw text) and wait for the answer carrying `answer_id`."""
        waiter = queue.Queue(maxsize=1)
        with self._lock:
            self._pending[answer_id] = waiter
        self.socket.send(frame if isinstance(frame, str) else json.dumps(frame))
        try:
            answer = waiter.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no answer to {answer_id} within {timeout} s") from None
        finally:
            with self._lock:
                self._pending.pop(answer_id, None)
        if answer[0] == 4:
            raise CallFailed(answer)
        return answer[2]

    def boot(self, **overrides):
        if self.version == "2.0.1":
            payload = {"chargingStation": {"model": "TestModel", "vendorName": "TestVendor",
                                           "serialNumber": "SN-1", "firmwareVersion": "1.0"},
                       "reason": "PowerUp"}
        else:
            payload = {"chargePointVendor": "TestVendor", "chargePointModel": "TestModel",
                       "chargePointSerialNumber": "SN-1", "firmwareVersion": "1.0"}
        payload.update(overrides)
        return self.call("BootNotification", payload)

    def status(self, status, connector_id=1, evse_id=1, timestamp="2026-01-01T00:00:00Z"):
        if self.version == "2.0.1":
            return self.call("StatusNotification", {"timestamp": timestamp, "connectorStatus": status,
                                                    "evseId": evse_id, "connectorId": connector_id})
        return self.call("StatusNotification", {"connectorId": connector_id, "status": status,
                                                "errorCode": "NoError", "timestamp": timestamp})

    # --- CSMS -> station --------------------------------------------------------------------

    def next_call(self, timeout=WAIT):
        """The next CALL the CSMS sent (when not auto-answered): (message_id, action, payload)."""
        try:
            return self.received_calls.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"the CSMS sent no call within {timeout} s") from None

    def reply(self, message_id, payload):
        self.socket.send(json.dumps([3, message_id, payload]))

    def reply_error(self, message_id, code, description=""):
        self.socket.send(json.dumps([4, message_id, code, description, {}]))

    # --- plumbing ---------------------------------------------------------------------------

    def _read(self):
        try:
            while True:
                text = self.socket.recv()
                self.raw_frames.put(text)
                frame = json.loads(text)
                if frame[0] == 2:
                    _, message_id, action, payload = frame
                    answer = self.answers.get(action) if self.auto_answer else None
                    if answer is None:
                        self.received_calls.put((message_id, action, payload))
                    else:
                        result = answer(payload) if callable(answer) else answer
                        self.reply(message_id, result)
                        self.received_calls.put((message_id, action, payload))
                else:
                    with self._lock:
                        waiter = self._pending.get(frame[1])
                    if waiter is not None:
                        waiter.put(frame)
        except Exception:
            pass
        finally:
            self.close_code = getattr(self.socket, "close_code", None)
            self.closed.set()

    def close(self):
        self.socket.close()
        self.closed.wait(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
