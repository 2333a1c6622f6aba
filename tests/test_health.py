"""GET /healthz/ proves the database and the channel layer answer from the server process."""
import httpx


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
        assert response.json()["checks"]["channel_layer"]["ms"] < 1000
