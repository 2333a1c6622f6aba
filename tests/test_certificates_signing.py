"""SignCertificate → CertificateSigned over real WebSockets (2.0.1 and the 1.6 security
extension): the chain the station receives verifies up to the CA's root with CN = identity;
bad CSRs are refused with the reason, and the refusal recorded."""
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from stations.models import CertificateSigningRequest, StationCertificate
from tests.certificate_helpers import (answering, csr_with_broken_signature, make_csr,
                                       small_rsa_key)
from tests.helpers import eventually


def verify_chain(chain_pem, root_pem, identity):
    leaf, *issuers = x509.load_pem_x509_certificates(chain_pem.encode())
    root = x509.load_pem_x509_certificate(root_pem.encode())
    assert len(issuers) == 1, "leaf + the charging-station sub-CA"
    sub_ca = issuers[0]
    leaf.verify_directly_issued_by(sub_ca)
    sub_ca.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == identity
    assert sub_ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    return leaf


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_sign_certificate_round_trip(api, connect_station, identity, version):
    station = connect_station(identity, version)
    signed = answering(station, "CertificateSigned", {"status": "Accepted"})
    payload = {"csr": make_csr(identity)}
    if version == "2.0.1":
        payload["certificateType"] = "ChargingStationCertificate"
    assert station.call("SignCertificate", payload) == {"status": "Accepted"}

    sent = signed.get(timeout=20)
    if version == "2.0.1":
        assert sent["certificateType"] == "ChargingStationCertificate"
    else:
        assert set(sent) == {"certificateChain"}
    authority = api.get("/certificate-authority/").json()
    leaf = verify_chain(sent["certificateChain"], authority["root_pem"], identity)

    rows = eventually(lambda: (lambda body: body if body["results"] and
                               body["results"][0]["status"] == "Installed" else None)(
        api.get("/station-certificates/", params={"station": identity}).json()))
    row = rows["results"][0]
    assert row["origin"] == "Signed" and row["certificate_type"] == "ChargingStationCertificate"
    assert row["serial_number"] == format(leaf.serial_number, "x")
    assert row["certificate_hash_data"]["serialNumber"] == format(leaf.serial_number, "x")
    csrs = api.get("/certificate-signing-requests/", params={"station": identity}).json()
    assert [csr["status"] for csr in csrs["results"]] == ["Signed"]


def test_v2g_certificate_signed_with_its_type(connect_station, identity):
    station = connect_station(identity, "2.0.1")
    signed = answering(station, "CertificateSigned", {"status": "Accepted"})
    assert station.call("SignCertificate", {"csr": make_csr(identity),
                                            "certificateType": "V2GCertificate"})["status"] == "Accepted"
    assert signed.get(timeout=20)["certificateType"] == "V2GCertificate"


def test_station_rejecting_the_chain_is_recorded(connect_station, identity):
    station = connect_station(identity, "2.0.1")
    signed = answering(station, "CertificateSigned", {"status": "Rejected"})
    station.call("SignCertificate", {"csr": make_csr(identity)})
    signed.get(timeout=20)
    row = eventually(lambda: StationCertificate.objects.filter(
        station__identity=identity, status="Rejected").first())
    assert row.station_status == "Rejected"


BAD_CSRS = {
    "InvalidCommonName": lambda identity: make_csr("someone-else"),
    "InvalidOrganization": lambda identity: make_csr(identity, organization="Other Org"),
    "InvalidKey": lambda identity: make_csr(identity, key=small_rsa_key()),
    "InvalidSignature": lambda identity: csr_with_broken_signature(identity),
    "InvalidCSR": lambda identity: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
}


@pytest.mark.parametrize("reason_code", list(BAD_CSRS))
def test_bad_csr_refused_with_reason_201(api, connect_station, identity, reason_code):
    station = connect_station(identity, "2.0.1")
    answer = station.call("SignCertificate", {"csr": BAD_CSRS[reason_code](identity)})
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == reason_code
    assert answer["statusInfo"]["additionalInfo"]
    refused = api.get("/certificate-signing-requests/", params={"station": identity}).json()["results"]
    assert [(row["status"], row["reason_code"]) for row in refused] == [("Refused", reason_code)]
    assert refused[0]["reason"] == answer["statusInfo"]["additionalInfo"]


def test_bad_csr_refused_16(connect_station, identity):
    station = connect_station(identity, "1.6")
    assert station.call("SignCertificate", {"csr": make_csr("wrong-cn")}) == {"status": "Rejected"}
    row = CertificateSigningRequest.objects.get(station__identity=identity)
    assert row.status == "Refused" and row.reason_code == "InvalidCommonName"
    assert not StationCertificate.objects.filter(station__identity=identity).exists()
