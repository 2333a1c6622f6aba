"""The certificates panel in a browser: a station's signed certificate appears, the operator asks
for the installed ids (a reported root appears), deletes it, and installs a root."""
import pytest
from playwright.sync_api import expect

from stations.security import x509 as certs
from tests.browser_helpers import screenshot
from tests.certificate_helpers import answering, make_csr, pem, self_signed_root
from tests.helpers import eventually

pytestmark = pytest.mark.browser


def test_panel_shows_signed_certificate_reports_deletes_and_installs(page, api, connect_station,
                                                                    identity):
    station = connect_station(identity, "2.0.1")
    answering(station, "CertificateSigned", {"status": "Accepted"})
    station.call("SignCertificate", {"csr": make_csr(identity)})
    factory_root = self_signed_root("Factory Root")
    answering(station, "GetInstalledCertificateIds", {"status": "Accepted", "certificateHashDataChain": [
        {"certificateType": "ManufacturerRootCertificate",
         "certificateHashData": certs.hash_data(factory_root).as_ocpp()}]})
    deleted = answering(station, "DeleteCertificate", {"status": "Accepted"})
    installed = answering(station, "InstallCertificate", {"status": "Accepted"})

    page.goto(f"/stations/{identity}/")
    panel = page.locator("#certificates-panel")
    rows = panel.locator("#station-certificates tbody")
    signed_row = rows.locator("tr[data-certificate]", has_text="ChargingStationCertificate")
    expect(signed_row.locator(".badge")).to_have_text("Installed")
    expect(rows.locator("tr.csr .badge")).to_have_text("Signed")

    panel.locator("#certificate-report").click()
    expect(page.locator(".flash").first).to_contain_text("GetInstalledCertificateIds:")
    # A report changes no open row, so the panel is re-read by hand once the answer is in.
    eventually(lambda: api.get("/station-certificates/", params={
        "station": identity, "origin": "Reported"}).json()["results"])
    panel.locator("#certificates-refresh").click()
    reported = rows.locator("tr[data-certificate]", has_text="ManufacturerRootCertificate")
    expect(reported).to_contain_text("Reported by the station")
    screenshot(page, "certificates-panel")

    reported.locator("button.certificate-delete").click()
    expect(page.locator(".flash").first).to_contain_text("DeleteCertificate:")
    assert deleted.get(timeout=5)["certificateHashData"]["serialNumber"] == certs.serial_hex(
        factory_root.serial_number)
    expect(rows.locator("tr[data-certificate]", has_text="ManufacturerRootCertificate")).to_have_count(0)

    root = self_signed_root("Operator Root")
    panel.locator("#certificate-install summary").click()
    panel.locator("#certificate-install-form select[name=certificate_type]").select_option("CSMSRootCertificate")
    panel.locator("#certificate-install-form textarea").fill(pem(root))
    panel.locator("#certificate-install-form button").click()
    expect(page.locator(".flash").first).to_contain_text("InstallCertificate:")
    assert installed.get(timeout=5)["certificate"] == pem(root)
    installed_row = rows.locator("tr[data-certificate]", has_text="CSMSRootCertificate")
    expect(installed_row.locator(".badge")).to_have_text("Installed")

    page.goto("/certificates/")
    expect(page.locator("#ca-root")).to_contain_text("Root CA")
    expect(page.locator("#certificates")).to_contain_text(identity)
