"""Plug & Charge authorization (C07/C08) over real WebSockets: a contract certificate or its hash
data judged against the trusted MO roots installed through the API and a real OCSP responder."""
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.pnc_helpers import Authority, OcspResponder, ocsp_request_data, pem
from transactions.models import IdToken


@pytest.fixture(scope="module")
def responder():
    server = OcspResponder()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mo(csms, operator, responder):
    """An MO root installed as trusted through the API, and its contract-issuing sub-CA."""
    root = Authority.root(f"MO Root {uuid.uuid4().hex[:6]}")
    sub_ca = root.issue("MO Sub-CA", ca=True, responder_url=responder.url)
    responder.serve(root)
    responder.serve(sub_ca)
    with httpx.Client(base_url=f"{csms.base_url}/api/v1", timeout=30,
                      headers={"Authorization": f"Token {operator['token']}"}) as api:
        answer = api.post("/trusted-roots/", json={"name": "Test MO", "pem": pem(root.certificate)})
    assert answer.status_code == 201, answer.text
    return {"root": root, "sub_ca": sub_ca}


@pytest.fixture(scope="module")
def ocsp_server(csms):
    """A server that asks the OCSP responders during Authorize."""
    server = ServerProcess("server-pnc-ocsp", extra_env={
        "PNC_OCSP_ENABLED": "true", "PNC_OCSP_TIMEOUT": "5",
        "PNC_OCSP_ALLOWED_HOSTS": "127.0.0.1"}).start()
    yield server
    server.stop()


@pytest.fixture
def emaid():
    value = f"DE-TST-C{uuid.uuid4().hex[:9].upper()}"
    IdToken.objects.create(id_token=value, type="eMAID")
    return value


def contract(mo, responder, **kwargs):
    return mo["sub_ca"].issue("contract", responder_url=responder.url, **kwargs)


def authorize(station, emaid, **fields):
    return station.call("Authorize", {"idToken": {"idToken": emaid, "type": "eMAID"}, **fields})


def test_contract_chained_to_an_installed_root_is_accepted(ocsp_server, connect_station, identity,
                                                           mo, responder, emaid):
    leaf = contract(mo, responder)
    responder.asked_serials()
    station = connect_station(identity, server=ocsp_server)
    answer = authorize(station, emaid, certificate=pem(leaf.certificate, mo["sub_ca"].certificate))
    assert answer["certificateStatus"] == "Accepted"
    assert answer["idTokenInfo"]["status"] == "Accepted"
    # Both links were checked with the responder each names.
    assert set(responder.asked_serials()) == {leaf.certificate.serial_number,
                                              mo["sub_ca"].certificate.serial_number}


def test_revoked_contract_is_refused_with_an_invalid_token(ocsp_server, connect_station, identity,
                                                           mo, responder, emaid):
    leaf = contract(mo, responder)
    responder.revoked.add(leaf.certificate.serial_number)
    station = connect_station(identity, server=ocsp_server)
    answer = authorize(station, emaid, certificate=pem(leaf.certificate, mo["sub_ca"].certificate))
    assert answer["certificateStatus"] == "CertificateRevoked"
    assert answer["idTokenInfo"]["status"] == "Invalid"


def test_expired_contract(ocsp_server, connect_station, identity, mo, responder, emaid):
    now = datetime.now(timezone.utc)
    leaf = contract(mo, responder, valid_from=now - timedelta(days=30),
                    valid_until=now - timedelta(days=1))
    station = connect_station(identity, server=ocsp_server)
    answer = authorize(station, emaid, certificate=pem(leaf.certificate, mo["sub_ca"].certificate))
    assert answer["certificateStatus"] == "CertificateExpired"
    assert answer["idTokenInfo"]["status"] == "Invalid"


def test_contract_of_an_untrusted_root(connect_station, identity, mo, responder, emaid):
    stranger = Authority.root("Someone Else's Root").issue("Other Sub-CA", ca=True)
    leaf = stranger.issue("contract")
    station = connect_station(identity)
    answer = authorize(station, emaid, certificate=pem(leaf.certificate, stranger.certificate))
    assert answer["certificateStatus"] == "CertChainError"
    assert answer["idTokenInfo"]["status"] == "Invalid"


def test_forged_link_is_a_signature_error(connect_station, identity, mo, emaid):
    # Named as issued by the trusted root, signed by another key.
    impostor = Authority.root("Impostor")
    forged_sub_ca = mo["root"].issue("MO Sub-CA", ca=True, signing_key=impostor.key)
    leaf = forged_sub_ca.issue("contract")
    station = connect_station(identity)
    answer = authorize(station, emaid, certificate=pem(leaf.certificate, forged_sub_ca.certificate))
    assert answer["certificateStatus"] == "SignatureError"
    assert answer["idTokenInfo"]["status"] == "Invalid"


def test_unreadable_certificate(connect_station, identity, emaid):
    station = connect_station(identity)
    answer = authorize(station, emaid, certificate="-----BEGIN CERTIFICATE-----\nnope\n")
    assert answer["certificateStatus"] == "NoCertificateAvailable"
    assert answer["idTokenInfo"]["status"] == "Invalid"


def test_without_ocsp_a_revoked_contract_still_chains(connect_station, identity, mo, responder,
                                                      emaid):
    # The default server does not ask responders (PNC_OCSP_ENABLED off): chain and dates only.
    leaf = contract(mo, responder)
    responder.revoked.add(leaf.certificate.serial_number)
    responder.asked_serials()
    station = connect_station(identity)
    answer = authorize(station, emaid, certificate=pem(leaf.certificate, mo["sub_ca"].certificate))
    assert answer["certificateStatus"] == "Accepted"
    assert responder.asked_serials() == []


def test_hash_data_checked_with_the_responders(ocsp_server, connect_station, identity, mo,
                                               responder, emaid):
    leaf = contract(mo, responder)
    hash_data = [ocsp_request_data(leaf.certificate, mo["sub_ca"].certificate, responder.url),
                 ocsp_request_data(mo["sub_ca"].certificate, mo["root"].certificate, responder.url)]
    station = connect_station(identity, server=ocsp_server)
    answer = authorize(station, emaid, iso15118CertificateHashData=hash_data)
    assert answer["certificateStatus"] == "Accepted"
    assert answer["idTokenInfo"]["status"] == "Accepted"

    responder.revoked.add(leaf.certificate.serial_number)
    answer = authorize(station, emaid, iso15118CertificateHashData=hash_data)
    assert answer["certificateStatus"] == "CertificateRevoked"
    assert answer["idTokenInfo"]["status"] == "Invalid"


def test_hash_data_of_an_untrusted_chain(connect_station, identity, responder, emaid):
    stranger = Authority.root("Unknown MO Root")
    leaf = stranger.issue("contract")
    station = connect_station(identity)
    answer = authorize(station, emaid, iso15118CertificateHashData=[
        ocsp_request_data(leaf.certificate, stranger.certificate, responder.url)])
    assert answer["certificateStatus"] == "CertChainError"
    assert answer["idTokenInfo"]["status"] == "Invalid"


def test_plain_token_gets_no_certificate_status(connect_station, identity, emaid):
    station = connect_station(identity)
    answer = authorize(station, emaid)
    assert answer["idTokenInfo"]["status"] == "Accepted"
    assert "certificateStatus" not in answer


def test_blocked_emaid_with_a_valid_contract_is_cancelled(connect_station, identity, mo,
                                                          responder, emaid):
    IdToken.objects.filter(id_token=emaid).update(status=IdToken.Status.BLOCKED)
    leaf = contract(mo, responder)
    station = connect_station(identity)
    answer = authorize(station, emaid, certificate=pem(leaf.certificate, mo["sub_ca"].certificate))
    assert answer["certificateStatus"] == "ContractCancelled"
    assert answer["idTokenInfo"]["status"] == "Blocked"


def test_responders_outside_the_allowed_hosts_are_not_contacted(ocsp_server, connect_station,
                                                                 identity, mo, responder, emaid):
    leaf = contract(mo, responder)
    responder.revoked.add(leaf.certificate.serial_number)
    responder.asked_serials()
    elsewhere = responder.url.replace("127.0.0.1", "localhost")
    station = connect_station(identity, server=ocsp_server)
    answer = authorize(station, emaid, iso15118CertificateHashData=[
        ocsp_request_data(leaf.certificate, mo["sub_ca"].certificate, elsewhere),
        ocsp_request_data(mo["sub_ca"].certificate, mo["root"].certificate, elsewhere)])
    # No revocation answer (soft-fail): the chain check alone decides, and nothing was asked.
    assert answer["certificateStatus"] == "Accepted"
    assert responder.asked_serials() == []
