"""/metrics counts the database and channel-layer errors a server meets: a server whose
PostgreSQL and Redis addresses answer nothing refuses a station 503 and says why in its counters."""
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import InvalidStatus

from tests.conftest import ServerProcess, free_port
from tests.helpers import eventually
from tests.station import StationClient


def scrape(server):
    response = httpx.get(f"{server.base_url}/metrics", timeout=30)  # METRICS_PUBLIC: no login
    assert response.status_code == 200, response.text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def test_database_and_channel_layer_errors_are_counted(identity):
    server = ServerProcess(f"server-metrics-faults-{uuid.uuid4().hex[:6]}", {
        "DATABASE_URL": f"postgres://csms:csms@127.0.0.1:{free_port()}/csms",
        "DATABASE_POOL_TIMEOUT": "2", "DATABASE_POOL_MIN_SIZE": "0",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "CELERY_BROKER_URL": "",
        "SECRET_KEY": "a-secret-key-for-this-test-server-only", "METRICS_PUBLIC": "true"}).start()
    try:
        with pytest.raises(InvalidStatus) as refused:
            StationClient(server.ws_url, identity)
        assert refused.value.response.status_code == 503

        def counted():
            samples = scrape(server)
            return samples if (
                samples.get(("csms_database_errors_total", (("where", "admission"),)), 0) >= 1
                and samples.get(("csms_channel_layer_errors_total", (("operation", "receive"),)), 0) >= 1
            ) else None

        samples = eventually(counted)
        assert samples[("csms_ocpp_upgrades_total", (("outcome", "503"),))] >= 1
        # The open-commands gauge could not be read: no stale figure, and the error is counted.
        assert not any(name == "csms_commands_open" for name, _ in samples)
        assert samples[("csms_database_errors_total", (("where", "metrics"),))] >= 1
    finally:
        server.stop()
