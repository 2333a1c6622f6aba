"""A server started with LOG_FORMAT=json writes one JSON object per log line (a station's lines
name it, a failure carries its traceback), and with METRICS_TOKEN set its /metrics answers that
bearer token."""
import json
import uuid

import httpx

from tests.conftest import ServerProcess
from tests.helpers import eventually
from tests.station import StationClient

METRICS_TOKEN = "a-metrics-token-for-the-scraper"


def log_entries(server):
    lines = server.log_path.read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]  # raises on any non-JSON line


def test_json_logs_and_the_metrics_token(identity):
    server = ServerProcess(f"server-json-logs-{uuid.uuid4().hex[:6]}", {
        "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "METRICS_TOKEN": METRICS_TOKEN,
        "OCPP_HANDLER_MODULES": "tests.escaping_handlers"}).start()
    try:
        with StationClient(server.ws_url, identity) as station:
            assert station.boot()["status"] == "Accepted"
            # A handler failure that escapes the consumer's guards is logged with its traceback.
            station.socket.send('[2,"e1","NotifyDisplayMessages",{"requestId":1}]')
            assert station.closed.wait(30)

        failure = eventually(lambda: next(
            (entry for entry in log_entries(server) if "exception" in entry), None))
        assert failure["level"] == "ERROR"
        assert failure["logger"] == "csms.ocpp.consumer"
        assert failure["station"] == identity
        assert identity in failure["message"]
        assert "Escape: escapes the consumer's guards on purpose" in failure["exception"]
        assert failure["time"].endswith("Z") and "T" in failure["time"]
        entries = log_entries(server)
        assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
        assert any(entry["message"].startswith("CSMS on http://") for entry in entries)

        metrics_url = f"{server.base_url}/metrics"
        scraped = httpx.get(metrics_url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                            timeout=30)
        assert scraped.status_code == 200
        assert ('csms_ocpp_messages_total{action="BootNotification",direction="in",'
                'message_type="CALL",outcome=""} 1.0') in scraped.text
        wrong = httpx.get(metrics_url, headers={"Authorization": "Bearer not-the-token"},
                          timeout=30)
        assert wrong.status_code == 401
    finally:
        server.stop()
