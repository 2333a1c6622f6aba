"""Security profiles 1-3 enforced per station on every upgrade, against runcsms serving its own
TLS port beside its plain one (a second server process with the tests' certificates)."""
import pytest

from stations.models import Station
from tests.conftest import ServerProcess, free_port
from tests.tls_helpers import Authority, client_context, open_station, upgrade_status

PASSWORD = "a-good-station-password-1"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    station_ca = Authority(directory, "Station CA")
    server_ca = Authority(directory, "Server CA")
    return {"directory": directory, "station_ca": station_ca, "server_ca": server_ca,
            "other_ca": Authority(directory, "Other CA"),
            "server": server_ca.issue("localhost", server=True)}


@pytest.fixture(scope="module")
def tls_server(pki, csms):
    tls_port = free_port()
    server = ServerProcess("csms-tls", {
        "TLS_PORT": str(tls_port),
        "TLS_CERTIFICATE_FILE": str(pki["server"][0]),
        "TLS_PRIVATE_KEY_FILE": str(pki["server"][1]),
        "TLS_CLIENT_CA_FILE": str(pki["station_ca"].path),
        # The forwarded TLS headers of these tests' forgers come from 127.0.0.2: untrusted.
        "OCPP_TRUSTED_PROXIES": "127.0.0.1/32",
    })
    server.start()
    server.wss_url = f"wss://localhost:{tls_port}"
    from tests.conftest import wait_for_port

    wait_for_port(tls_port, server.process)
    yield server
    server.stop()


def make_station(identity, profile, password=None):
    station = Station(identity=identity, security_profile=profile)
    station.set_password(password)
    station.save()
    return station


def test_profile_3_right_certificate_is_admitted_and_boots(tls_server, pki, identity):
    make_station(identity, 3)
    certificate = pki["station_ca"].issue(identity)
    station = open_station(tls_server.wss_url, identity,
                           client_context(pki["server_ca"], certificate))
    try:
        assert station.boot()["status"] == "Accepted"
    finally:
        station.close()


@pytest.mark.parametrize("case, expected", [
    ("wrong_cn", 403), ("no_certificate", 401), ("untrusted_ca", "tls"), ("expired", "tls"),
])
def test_profile_3_bad_certificates_are_refused(tls_server, pki, identity, case, expected):
    make_station(identity, 3, PASSWORD)
    certificate = {
        "wrong_cn": lambda: pki["station_ca"].issue(identity + "-other"),
        "no_certificate": lambda: None,
        "untrusted_ca": lambda: pki["other_ca"].issue(identity),
        "expired": lambda: pki["station_ca"].issue(identity, expired=True),
    }[case]()
    # The password is right, but a profile 3 station is known by its certificate alone.
    status = upgrade_status(tls_server.wss_url, identity,
                            client_context(pki["server_ca"], certificate), password=PASSWORD)
    assert status == expected
    assert not Station.objects.get(identity=identity).online


def test_no_downgrade_to_the_plain_port(tls_server, identity):
    # A profile 3 station presenting Basic auth on the plain port is refused, right password or not.
    make_station(identity, 3, PASSWORD)
    assert upgrade_status(tls_server.ws_url, identity, password=PASSWORD) == 426
    # A profile 2 station over plain ws is refused too.
    make_station(identity + "-2", 2, PASSWORD)
    assert upgrade_status(tls_server.ws_url, identity + "-2", password=PASSWORD) == 426


def test_profile_2_is_basic_auth_over_tls(tls_server, pki, identity):
    make_station(identity, 2, PASSWORD)
    context = client_context(pki["server_ca"])
    assert upgrade_status(tls_server.wss_url, identity, context, password="wrong-password-123456") == 401
    assert upgrade_status(tls_server.wss_url, identity, context) == 401
    station = open_station(tls_server.wss_url, identity, context, password=PASSWORD)
    try:
        assert station.boot()["status"] == "Accepted"
    finally:
        station.close()


def test_profile_1_over_ws_still_works_where_allowed(tls_server, identity):
    make_station(identity, 1, PASSWORD)
    station = open_station(tls_server.ws_url, identity, password=PASSWORD)
    try:
        assert station.boot()["status"] == "Accepted"
    finally:
        station.close()


def test_forwarded_tls_headers_from_an_untrusted_address_are_ignored(tls_server, identity):
    make_station(identity, 3)
    forged = {"X-Forwarded-Proto": "https", "X-SSL-Client-Verify": "SUCCESS",
              "X-SSL-Client-S-DN": f"CN={identity},O=CSMS"}
    # From 127.0.0.2 (not in OCPP_TRUSTED_PROXIES) the headers count for nothing: plain ws.
    assert upgrade_status(tls_server.ws_url, identity, headers=forged,
                          source_address="127.0.0.2") == 426
    # The same headers from the trusted proxy address are believed (nginx sets them there).
    assert upgrade_status(tls_server.ws_url, identity, headers=forged) == 101
