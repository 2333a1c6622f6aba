"""A webhook receiver for tests: a real HTTP server in a thread that records every POST, checks
its X-CSMS-Signature, and can fail the first N tries of each event on purpose."""
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def signature_valid(secret, header, body):
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


class WebhookReceiver:
    """`received`: every POST as a dict (event, signature_valid, answered); `fail_first`: how
    many tries of each event id are answered `fail_status` before one is accepted."""

    def __init__(self, secret, fail_first=0, fail_status=503):
        self.secret = secret
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.received = []
        self._tries = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                event = json.loads(body)
                with receiver._lock:
                    tries = receiver._tries[event["id"]] = receiver._tries.get(event["id"], 0) + 1
                    answer = receiver.fail_status if tries <= receiver.fail_first else 200
                    receiver.received.append({
                        "event": event, "answered": answer, "try": tries,
                        "signature_valid": signature_valid(
                            receiver.secret, self.headers.get("X-CSMS-Signature", "t=0,v1="),
                            body)})
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def events(self, event_type=None, station=None):
        """The events accepted (answered 200), optionally of one type and one station."""
        with self._lock:
            rows = [row for row in self.received if row["answered"] == 200]
        return [row["event"] for row in rows
                if (event_type is None or row["event"]["type"] == event_type)
                and (station is None or row["event"]["data"].get("station") == station)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
