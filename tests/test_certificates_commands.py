"""InstallCertificate, GetInstalledCertificateIds and DeleteCertificate through the API, answered by
scripted stations (2.0.1 and 1.6), and the renewal pass asking a station whose certificate
expires within CERTIFICATE_RENEWAL_DAYS for a new CSR."""
from datetime import timedelta

import pytest
from django.utils import timezone

from stations.models import StationCertificate
from stations.security import x509 as certs
from tests.certificate_helpers import answering, make_csr, pem, self_signed_root
from tests.helpers import eventually


def hash_data_of(certificate):
    return certs.hash_data(certificate).as_ocpp()


def test_install_report_and_delete_201(api, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    root = self_signed_root("Operator Root")
    installed = answering(station, "InstallCertificate", {"status": "Accepted"})
    response = api.post("/station-certificates/install/", json={
        "station": identity, "certificate_type": "CSMSRootCertificate", "certificate": pem(root),
        "wait": 10})
    assert response.status_code == 201, response.text
    body = response.json()
    assert installed.get(timeout=5) == {"certificateType": "CSMSRootCertificate",
                                        "certificate": pem(root)}
    row = body["certificate"]
    assert (row["status"], row["origin"]) == ("Installed", "Installed")
    assert row["certificate_hash_data"] == hash_data_of(root)

    # The station reports that root and one the CSMS never knew (a manufacturer root).
    other = self_signed_root("Factory Root")
    report = answering(station, "GetInstalledCertificateIds", {"status": "Accepted", "certificateHashDataChain": [
        {"certificateType": "CSMSRootCertificate", "certificateHashData": hash_data_of(root)},
        {"certificateType": "ManufacturerRootCertificate", "certificateHashData": hash_data_of(other)},
    ]})
    response = api.post("/station-certificates/report/", json={"station": identity, "wait": 10})
    assert response.status_code == 201, response.text
    assert report.get(timeout=5) == {}
    rows = eventually(lambda: (lambda found: found if len(found) == 2 else None)(
        api.get("/station-certificates/", params={"station": identity, "status": "Installed"}).json()["results"]))
    by_type = {item["certificate_type"]: item for item in rows}
    assert by_type["CSMSRootCertificate"]["id"] == row["id"]  # matched, not duplicated
    reported = by_type["ManufacturerRootCertificate"]
    assert reported["origin"] == "Reported"
    assert reported["certificate_hash_data"] == hash_data_of(other)

    deleted = answering(station, "DeleteCertificate", {"status": "Accepted"})
    response = api.post("/station-certificates/delete/", json={
        "station": identity, "certificate": reported["id"], "wait": 10})
    assert response.status_code == 201, response.text
    assert deleted.get(timeout=5) == {"certificateHashData": hash_data_of(other)}
    assert response.json()["certificate"]["status"] == "Deleted"

    # A later report without the CSMS root: it is gone from the station.
    answering(station, "GetInstalledCertificateIds", {"status": "NotFound"})
    api.post("/station-certificates/report/", json={
        "station": identity, "certificate_types": ["CSMSRootCertificate"], "wait": 10})
    eventually(lambda: StationCertificate.objects.get(pk=row["id"]).status == "Deleted")


def test_install_report_and_delete_16(api, connect_station, identity):
    station = connect_station(identity, "1.6")
    root = self_signed_root("Central System Root")
    installed = answering(station, "InstallCertificate", {"status": "Accepted"})
    response = api.post("/station-certificates/install/", json={
        "station": identity, "certificate_type": "CSMSRootCertificate", "certificate": pem(root),
        "wait": 10})
    assert response.status_code == 201, response.text
    assert installed.get(timeout=5)["certificateType"] == "CentralSystemRootCertificate"

    report = answering(station, "GetInstalledCertificateIds", {
        "status": "Accepted", "certificateHashData": [hash_data_of(root)]})
    response = api.post("/station-certificates/report/", json={
        "station": identity, "certificate_types": ["CSMSRootCertificate"], "wait": 10})
    assert response.status_code == 201, response.text
    assert report.get(timeout=5) == {"certificateType": "CentralSystemRootCertificate"}

    refused = answering(station, "DeleteCertificate", {"status": "Failed"})
    response = api.post("/station-certificates/delete/", json={
        "station": identity, "certificate_hash_data": hash_data_of(root), "wait": 10})
    assert response.status_code == 201, response.text
    refused.get(timeout=5)
    row = response.json()["certificate"]
    assert (row["status"], row["station_status"]) == ("Installed", "Failed")


@pytest.mark.parametrize("body,problem", [
    ({"certificate_type": "ChargingStationCertificate", "certificate": "x"}, "certificate_type"),
    ({"certificate_type": "CSMSRootCertificate", "certificate": "not a pem"},
     "certificate is not a PEM certificate"),
])
def test_install_refuses_bad_requests(api, connect_station, identity, body, problem):
    connect_station(identity, "2.0.1")
    response = api.post("/station-certificates/install/", json={"station": identity, **body})
    assert response.status_code == 400
    assert problem in response.json()["errors"] or response.json()["errors"] == [problem]


def test_install_of_a_v2g_root_refused_on_16(api, connect_station, identity):
    connect_station(identity, "1.6")
    response = api.post("/station-certificates/install/", json={
        "station": identity, "certificate_type": "V2GRootCertificate",
        "certificate": pem(self_signed_root())})
    assert response.status_code == 400
    assert "1.6" in response.json()["detail"]


def test_delete_needs_one_way_to_name_the_certificate(api, connect_station, identity):
    connect_station(identity, "2.0.1")
    response = api.post("/station-certificates/delete/", json={"station": identity})
    assert response.status_code == 400


@pytest.mark.parametrize("version,action,requested", [
    ("2.0.1", "TriggerMessage", "SignChargingStationCertificate"),
    ("1.6", "ExtendedTriggerMessage", "SignChargePointCertificate"),
])
def test_renewal_triggers_station_whose_certificate_expires_soon(connect_station, identity, version,
                                                                  action, requested):
    station = connect_station(identity, version)
    answering(station, "CertificateSigned", {"status": "Accepted"})
    triggers = answering(station, action, {"status": "Accepted"})
    assert station.call("SignCertificate", {"csr": make_csr(identity)})["status"] == "Accepted"
    row = eventually(lambda: StationCertificate.objects.filter(
        station__identity=identity, status="Installed").first())
    assert triggers.empty()  # a year to go: no renewal

    # Ten days left, inside the default 30-day window: the beat's pass asks for a new CSR.
    StationCertificate.objects.filter(pk=row.pk).update(not_after=timezone.now() + timedelta(days=10))
    assert triggers.get(timeout=20) == {"requestedMessage": requested}
    eventually(lambda: StationCertificate.objects.get(pk=row.pk).renewal_requested_at)

    # The station answers with a new CSR: the new certificate replaces the old one.
    assert station.call("SignCertificate", {"csr": make_csr(identity)})["status"] == "Accepted"
    eventually(lambda: StationCertificate.objects.get(pk=row.pk).status == "Replaced")
    assert StationCertificate.objects.filter(station__identity=identity, status="Installed").count() == 1


def test_delete_of_a_certificate_the_csms_never_knew(api, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    unknown = hash_data_of(self_signed_root("Unknown Root"))
    sent = answering(station, "DeleteCertificate", {"status": "NotFound"})
    response = api.post("/station-certificates/delete/", json={
        "station": identity, "certificate_hash_data": unknown, "wait": 10})
    assert response.status_code == 201, response.text
    assert sent.get(timeout=5) == {"certificateHashData": unknown}
    body = response.json()
    assert body["certificate"] is None
    assert body["command"]["response"] == {"status": "NotFound"}
