"""Get15118EVCertificate and GetCertificateStatus over real WebSockets, answered by policy:
forwarded to a real provider (an HTTP server of the test) and relayed, OCSP asked directly
(a real responder), or Failed with a reason."""
import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

from tests.conftest import ServerProcess
from tests.pnc_helpers import Authority, CertificateProvider, OcspResponder, ocsp_request_data

EV_REQUEST = {"iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef", "action": "Install",
              "exiRequest": base64.b64encode(b"CertificateInstallationReq EXI").decode()}
EV_ANSWER = {"status": "Accepted",
             "exiResponse": base64.b64encode(b"CertificateInstallationRes EXI").decode()}


@pytest.fixture(scope="module")
def responder():
    server = OcspResponder()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def provider():
    server = CertificateProvider()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_provider(provider):
    provider.clear()


@pytest.fixture(scope="module")
def forwarding_server(csms, provider):
    """A server forwarding both calls to the provider."""
    server = ServerProcess("server-pnc-forward", extra_env={
        "PNC_EV_CERTIFICATE_POLICY": "forward", "PNC_CERTIFICATE_STATUS_POLICY": "forward",
        "PNC_PROVIDER_URL": provider.url, "PNC_PROVIDER_AUTHORIZATION": "Bearer provider-secret",
        "PNC_PROVIDER_TIMEOUT": "5"}).start()
    yield server
    server.stop()


@pytest.fixture
def v2g_certificate(responder):
    root = Authority.root("V2G Root")
    sub_ca = root.issue("CPO Sub-CA", ca=True)
    responder.serve(sub_ca)
    leaf = sub_ca.issue("SECC", responder_url=responder.url)
    return leaf, sub_ca


def test_ev_certificate_forwarded_and_relayed(forwarding_server, provider, connect_station,
                                              identity):
    provider.answers["Get15118EVCertificate"] = (200, EV_ANSWER)
    station = connect_station(identity, server=forwarding_server)
    assert station.call("Get15118EVCertificate", EV_REQUEST) == EV_ANSWER
    received = provider.received.get(timeout=5)
    assert received == {"action": "Get15118EVCertificate", "station": identity,
                        "authorization": "Bearer provider-secret", "payload": EV_REQUEST}


@pytest.mark.parametrize("status,body,reason_code", [
    (200, b"not json", "ProviderError"),
    (200, {"status": "Maybe", "exiResponse": ""}, "ProviderError"),
    (503, {"error": "busy"}, "ProviderError"),
])
def test_unusable_provider_answer_is_failed_with_why(forwarding_server, provider, connect_station,
                                                     identity, status, body, reason_code):
    provider.answers["Get15118EVCertificate"] = (status, body)
    station = connect_station(identity, server=forwarding_server)
    answer = station.call("Get15118EVCertificate", EV_REQUEST)
    assert answer["status"] == "Failed"
    assert answer["exiResponse"] == ""
    assert answer["statusInfo"]["reasonCode"] == reason_code
    assert answer["statusInfo"]["additionalInfo"]


def test_ev_certificate_policy_fail(connect_station, identity):
    # The default server: PNC_EV_CERTIFICATE_POLICY=fail.
    station = connect_station(identity)
    answer = station.call("Get15118EVCertificate", EV_REQUEST)
    assert answer["status"] == "Failed"
    assert answer["exiResponse"] == ""
    assert answer["statusInfo"]["reasonCode"] == "NotSupported"
    assert "PNC_EV_CERTIFICATE_POLICY" in answer["statusInfo"]["additionalInfo"]


def test_certificate_status_forwarded(forwarding_server, provider, connect_station, identity,
                                      v2g_certificate, responder):
    leaf, sub_ca = v2g_certificate
    request = {"ocspRequestData": ocsp_request_data(leaf.certificate, sub_ca.certificate,
                                                    responder.url)}
    provider.answers["GetCertificateStatus"] = (200, {"status": "Accepted", "ocspResult": "AAAA"})
    station = connect_station(identity, server=forwarding_server)
    assert station.call("GetCertificateStatus", request) == {"status": "Accepted",
                                                             "ocspResult": "AAAA"}
    assert provider.received.get(timeout=5)["payload"] == request


@pytest.mark.parametrize("revoked", [False, True])
def test_certificate_status_asked_of_the_responder(connect_station, identity, v2g_certificate,
                                                   responder, revoked):
    # The default server: PNC_CERTIFICATE_STATUS_POLICY=ocsp.
    leaf, sub_ca = v2g_certificate
    if revoked:
        responder.revoked.add(leaf.certificate.serial_number)
    station = connect_station(identity)
    answer = station.call("GetCertificateStatus", {"ocspRequestData": ocsp_request_data(
        leaf.certificate, sub_ca.certificate, responder.url)})
    assert answer["status"] == "Accepted"
    response = ocsp.load_der_ocsp_response(base64.b64decode(answer["ocspResult"]))
    assert response.serial_number == leaf.certificate.serial_number
    assert response.certificate_status == (ocsp.OCSPCertStatus.REVOKED if revoked
                                           else ocsp.OCSPCertStatus.GOOD)
    # Relayed untouched: still signed by the certificate's issuer (raises if not).
    sub_ca.certificate.public_key().verify(response.signature, response.tbs_response_bytes,
                                           ec.ECDSA(response.signature_hash_algorithm))


def test_certificate_status_without_a_responder_is_failed(connect_station, identity,
                                                          v2g_certificate):
    leaf, sub_ca = v2g_certificate
    station = connect_station(identity)
    answer = station.call("GetCertificateStatus", {"ocspRequestData": ocsp_request_data(
        leaf.certificate, sub_ca.certificate, "http://127.0.0.1:9/ocsp")})
    assert answer["status"] == "Failed"
    assert answer["statusInfo"]["reasonCode"] == "OCSPUnavailable"
    assert "ocspResult" not in answer


def test_certificate_status_with_bad_hash_data_is_failed(connect_station, identity, responder):
    station = connect_station(identity)
    answer = station.call("GetCertificateStatus", {"ocspRequestData": {
        "hashAlgorithm": "SHA256", "issuerNameHash": "zz", "issuerKeyHash": "zz",
        "serialNumber": "1", "responderURL": responder.url}})
    assert answer["status"] == "Failed"
    assert answer["statusInfo"]["reasonCode"] == "InvalidRequest"


@pytest.fixture(scope="module")
def unreachable_provider_server(csms):
    """A server forwarding EV certificates to a provider nobody listens for, and refusing
    certificate status requests."""
    server = ServerProcess("server-pnc-unreachable", extra_env={
        "PNC_EV_CERTIFICATE_POLICY": "forward", "PNC_PROVIDER_URL": "http://127.0.0.1:9/",
        "PNC_PROVIDER_TIMEOUT": "2", "PNC_CERTIFICATE_STATUS_POLICY": "fail"}).start()
    yield server
    server.stop()


def test_unreachable_provider_and_status_policy_fail(unreachable_provider_server, connect_station,
                                                     identity, v2g_certificate, responder):
    station = connect_station(identity, server=unreachable_provider_server)
    answer = station.call("Get15118EVCertificate", EV_REQUEST)
    assert (answer["status"], answer["exiResponse"]) == ("Failed", "")
    assert answer["statusInfo"]["reasonCode"] == "ProviderUnreachable"

    leaf, sub_ca = v2g_certificate
    answer = station.call("GetCertificateStatus", {"ocspRequestData": ocsp_request_data(
        leaf.certificate, sub_ca.certificate, responder.url)})
    assert answer["status"] == "Failed"
    assert answer["statusInfo"]["reasonCode"] == "NotSupported"
    assert "PNC_CERTIFICATE_STATUS_POLICY" in answer["statusInfo"]["additionalInfo"]
