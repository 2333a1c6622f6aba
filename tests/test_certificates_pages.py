"""The certificates pages over real HTTP: the network page with the CA and its PEM downloads
(the files nginx's ssl_client_certificate takes), filters, and the station panel's forms
answering bad input with a message, never a 500."""
from cryptography import x509

from tests.certificate_helpers import answering, make_csr
from tests.helpers import eventually


def test_network_page_lists_certificates_and_serves_the_ca(api, dashboard, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    signed = answering(station, "CertificateSigned", {"status": "Accepted"})
    station.call("SignCertificate", {"csr": make_csr(identity)})
    chain = signed.get(timeout=20)["certificateChain"]
    station.call("SignCertificate", {"csr": make_csr("not-" + identity)})
    eventually(lambda: api.get("/station-certificates/", params={
        "station": identity, "status": "Installed"}).json()["results"])

    page = dashboard.get("/certificates/", params={"station": identity})
    assert page.status_code == 200
    assert identity in page.text and "ChargingStationCertificate" in page.text
    assert "InvalidCommonName" in page.text  # the refused CSR and why

    root = dashboard.get("/certificates/ca/root.pem")
    assert root.status_code == 200 and root.headers["content-type"] == "application/x-pem-file"
    assert root.text == api.get("/certificate-authority/").json()["root_pem"]
    ca_chain = x509.load_pem_x509_certificates(dashboard.get("/certificates/ca/chain.pem").content)
    issuer = ca_chain[0]
    leaf = x509.load_pem_x509_certificates(chain.encode())[0]
    leaf.verify_directly_issued_by(issuer)
    assert ca_chain[-1].subject == x509.load_pem_x509_certificate(root.content).subject
    assert dashboard.get("/certificates/ca/other.pem").status_code == 404


def test_network_page_bad_filter_is_a_form_error(dashboard):
    page = dashboard.get("/certificates/", params={"expires_within_days": "soon"})
    assert page.status_code == 200 and "expires_within_days" in page.text


def test_panel_forms_refuse_bad_input_with_a_message(dashboard, connect_station, identity):
    connect_station(identity, "1.6")
    detail = f"/stations/{identity}/"
    answer = dashboard.submit(f"/stations/{identity}/certificates/install/",
                              {"certificate_type": "CSMSRootCertificate", "certificate": "nope"},
                              form_page=detail)
    assert answer.status_code == 200 and "certificate is not a PEM certificate" in answer.text
    answer = dashboard.submit(f"/stations/{identity}/certificates/renew/",
                              {"certificate_type": "V2GCertificate"}, form_page=detail)
    assert answer.status_code == 200 and "OCPP 1.6 renews only" in answer.text
    answer = dashboard.submit(f"/stations/{identity}/certificates/delete/", {"certificate": "12345678"},
                              form_page=detail)
    assert answer.status_code == 200 and "no such certificate" in answer.text
    assert dashboard.submit(f"/stations/{identity}/certificates/unknown/", {},
                            form_page=detail).status_code == 404


def test_pages_need_a_login(csms):
    import httpx

    for path in ("/certificates/", "/certificates/ca/root.pem"):
        answer = httpx.get(f"{csms.base_url}{path}")
        assert answer.status_code == 302 and "/accounts/login/" in answer.headers["location"]
