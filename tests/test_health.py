"""GET /healthz/ proves the database and the channel layer answer from the server process, and
that its own beat is recent."""
import httpx
import pytest


def test_healthy_server_reports_both_checks(csms):
    response = httpx.get(f"{csms.base_url}/healthz/")
    assert response.status_code == 200
    body = response.json()
    assert body["healthy"] is True
    assert body["checks"]["database"]["ok"] and body["checks"]["channel_layer"]["ok"]


def test_unreachable_channel_layer_is_unhealthy(csms):
    from tests.conftest import ServerProcess

    # Nothing listens on port 1: the process serves HTTP but could never deliver a command.
    server = ServerProcess("server-no-redis", {"REDIS_URL": "redis://127.0.0.1:1/0"}).start()
    try:
        response = httpx.get(f"{server.base_url}/healthz/", timeout=10)
    finally:
        server.stop()
    assert response.status_code == 503
    body = response.json()
    assert body["healthy"] is False
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["channel_layer"]["ok"] is False and body["checks"]["channel_layer"]["error"]


def test_healthy_while_stations_hold_the_channel_layer_receive_loop(csms, connect_station,
                                                                    identity):
    # A connected station's consumer keeps a receive() open on the process's channel layer;
    # the health probe's own round trip must not wait behind it.
    connect_station(identity)
    for _ in range(5):
        response = httpx.get(f"{csms.base_url}/healthz/", timeout=10)
        assert response.status_code == 200, response.text
        # Waiting behind that loop would take its 5 s BRPOP; well under it means no wait.
        assert response.json()["checks"]["channel_layer"]["ms"] < 4000


def test_beat_check_once_a_station_has_connected(csms, connect_station, identity):
    from django.conf import settings

    connect_station(identity)  # the first station starts the process's beat
    beat = httpx.get(f"{csms.base_url}/healthz/", timeout=10).json()["checks"]["beat"]
    assert beat["ok"] is True
    assert 0 <= beat["age_s"] <= 3 * settings.OCPP_SERVER_BEAT_SECONDS


def test_a_process_without_stations_does_not_beat_and_says_so(csms):
    from tests.conftest import ServerProcess

    server = ServerProcess("server-no-stations").start()
    try:
        response = httpx.get(f"{server.base_url}/healthz/", timeout=10)
    finally:
        server.stop()
    assert response.status_code == 200, response.text
    beat = response.json()["checks"]["beat"]
    assert beat["ok"] is True and "no station has connected" in beat["detail"]


def test_unreachable_database_is_unhealthy_and_checks_do_not_pile_up(csms):
    from tests.conftest import ServerProcess, free_port
    from tests.environment import BACKEND

    if BACKEND != "services":
        pytest.skip("SQLite has no server to be unreachable")
    # Nothing listens there: the pool waits DATABASE_POOL_TIMEOUT for a connection, longer
    # than the check's 2 s, so the first check times out and the next finds it still waiting.
    database_url = f"postgresql://postgres@127.0.0.1:{free_port()}/csms"
    server = ServerProcess("server-no-database", {"DATABASE_URL": database_url,
                                                  "DATABASE_POOL_TIMEOUT": "30"}).start()
    try:
        first = httpx.get(f"{server.base_url}/healthz/", timeout=10)
        second = httpx.get(f"{server.base_url}/healthz/", timeout=10)
    finally:
        server.kill()  # its check thread waits for the pool; nothing to shut down cleanly
    assert first.status_code == 503 and second.status_code == 503
    checks = first.json()["checks"]
    assert checks["database"]["ok"] is False and "no answer within 2 s" in checks["database"]["error"]
    assert checks["channel_layer"]["ok"] is True
    assert "the previous check has waited" in second.json()["checks"]["database"]["error"]
