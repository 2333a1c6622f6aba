"""The project's nginx configuration (deploy/nginx/csms.conf and csms-profile3.conf, run by Debian's
nginx with the tests' certificates) in front of a CSMS that trusts its forwarded TLS headers."""
import httpx
import pytest

from stations.models import Station

from tests.test_security_profiles import PASSWORD, make_station, pki, tls_server  # noqa: F401
from tests.tls_helpers import Nginx, client_context, open_station, upgrade_status


@pytest.fixture(scope="module")
def nginx(pki, tls_server, tmp_path_factory):  # noqa: F811
    proxy = Nginx(tmp_path_factory.mktemp("nginx"), tls_server.port, pki["server"],
                  pki["station_ca"].path).start()
    proxy.wss_url = f"wss://localhost:{proxy.https_port}"
    proxy.profile3_url = f"wss://localhost:{proxy.profile3_port}"
    yield proxy
    proxy.stop()


def test_profile_3_through_nginx_right_certificate_is_admitted(nginx, pki, identity):  # noqa: F811
    make_station(identity, 3)
    station = open_station(nginx.profile3_url, identity,
                           client_context(pki["server_ca"], pki["station_ca"].issue(identity)))
    try:
        assert station.boot()["status"] == "Accepted"
    finally:
        station.close()


@pytest.mark.parametrize("case", ["wrong_cn", "no_certificate", "untrusted_ca", "expired"])
def test_profile_3_through_nginx_bad_certificates_are_refused(nginx, pki, identity, case):  # noqa: F811
    make_station(identity, 3, PASSWORD)
    certificate = {
        "wrong_cn": lambda: pki["station_ca"].issue(identity + "-other"),
        "no_certificate": lambda: None,
        "untrusted_ca": lambda: pki["other_ca"].issue(identity),
        "expired": lambda: pki["station_ca"].issue(identity, expired=True),
    }[case]()
    status = upgrade_status(nginx.profile3_url, identity,
                            client_context(pki["server_ca"], certificate), password=PASSWORD)
    # nginx answers 400 to a missing or unverifiable certificate and 403 to another CN.
    assert status in (400, 403, "tls"), status
    assert not Station.objects.get(identity=identity).online


def test_profile_3_station_on_the_basic_auth_port_is_refused(nginx, pki, identity):  # noqa: F811
    # The profile 2 port asks for no certificate: nginx forwards NONE and the CSMS refuses.
    make_station(identity, 3, PASSWORD)
    assert upgrade_status(nginx.wss_url, identity, client_context(pki["server_ca"]),
                          password=PASSWORD) == 401
    # A station cannot pass its own verdict through the proxy: nginx overwrites the headers.
    forged = {"X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-S-DN": f"CN={identity},O=CSMS"}
    assert upgrade_status(nginx.wss_url, identity, client_context(pki["server_ca"]),
                          password=PASSWORD, headers=forged) == 401


def test_profile_2_through_nginx(nginx, pki, identity):  # noqa: F811
    make_station(identity, 2, PASSWORD)
    context = client_context(pki["server_ca"])
    assert upgrade_status(nginx.wss_url, identity, context, password="wrong-password-123456") == 401
    station = open_station(nginx.wss_url, identity, context, password=PASSWORD)
    try:
        assert station.boot()["status"] == "Accepted"
    finally:
        station.close()
    # nginx's plain port only redirects to https: no station is served on it.
    answer = httpx.get(f"http://127.0.0.1:{nginx.http_port}/ocpp/{identity}")
    assert answer.status_code == 301
    assert answer.headers["location"].startswith("https://")


