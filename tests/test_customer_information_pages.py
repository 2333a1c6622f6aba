"""The customer-information pages (2.0.1 N09/N10) against the running server: the list with its
form, who may see them, the form's errors, and a request answered by a scripted station in three
NotifyCustomerInformation parts whose document the request page shows and offers to download."""
import re
import uuid

import pytest

from tests.browser_helpers import DashboardClient
from transactions.models import CustomerInformationRequest

LIST = "/customer-information/"
SEND = {"report": "on", "id_token": "", "id_token_type": "ISO14443", "customer_identifier": "",
        "certificate_hash_algorithm": "", "certificate_issuer_name_hash": "",
        "certificate_issuer_key_hash": "", "certificate_serial_number": ""}


def part(request_id, seq_no, data, tbc):
    return {"requestId": request_id, "seqNo": seq_no, "data": data, "tbc": tbc,
            "generatedAt": "2026-03-01T08:00:00Z"}


def errors_of(page):
    """The error lines shown beside the form."""
    block = page.split('id="customer-information-errors"', 1)[1].split("</div>", 1)[0]
    return [re.sub(r"\s+", " ", line) for line in re.findall(r'<p class="error">(.*?)</p>',
                                                               block, re.S)]


def test_the_list_page_and_its_form(dashboard, connect_station, identity):
    connect_station(identity)
    connect_station(identity + "-16", "1.6")
    page = dashboard.get(LIST)
    assert page.status_code == 200
    assert 'id="customer-information-form"' in page.text
    assert f'<option value="{identity}">' in page.text
    assert f'<option value="{identity}-16">' not in page.text  # CustomerInformation is 2.0.1 only
    # The navigation leads an operator here.
    assert f'href="{LIST}"' in dashboard.get("/").text


def test_only_operators_see_customer_data(csms, dashboard, connect_station, identity):
    from django.contrib.auth.models import User

    station = connect_station(identity)
    station.answers["CustomerInformation"] = {"status": "Accepted"}
    sent = dashboard.submit(LIST, {**SEND, "station": identity, "customer_identifier": "c-7"})
    info = CustomerInformationRequest.objects.get(station__identity=identity)
    paths = [LIST, f"{LIST}{info.pk}/", f"{LIST}{info.pk}/download/"]
    assert sent.status_code == 200 and sent.url.path == paths[1]
    with DashboardClient(base_url=csms.base_url, timeout=30) as anonymous:
        for path in paths:
            answer = anonymous.get(path)
            assert answer.status_code == 302 and answer.headers["location"].startswith(
                "/accounts/login/"), path
        token = anonymous.csrf_token("/accounts/login/")
        posted = anonymous.post(LIST, data={**SEND, "station": identity,
                                            "csrfmiddlewaretoken": token})
        assert posted.status_code == 302
    password = "viewer-password"
    viewer = User.objects.create_user(f"viewer-{uuid.uuid4().hex[:6]}", password=password)
    with DashboardClient(base_url=csms.base_url, timeout=30) as client:
        client.log_in(viewer.username, password)
        for path in paths:
            assert client.get(path).status_code == 403, path
        assert 'href="/customer-information/"' not in client.get("/").text
    # Without the CSRF token the operator's own post is refused too.
    refused = dashboard.post(LIST, data={**SEND, "station": identity, "customer_identifier": "x"})
    assert refused.status_code == 403
    assert CustomerInformationRequest.objects.filter(station__identity=identity).count() == 1


@pytest.mark.parametrize("fields, expected", [
    ({"id_token": "T-1", "customer_identifier": "c-1"},
     ["Give exactly one of id_token, customer_identifier, customer_certificate "
      "(got id_token, customer_identifier)."]),
    ({"report": "", "customer_identifier": "c-1"}, ["Ask for a report, a clear or both."]),
    ({"report": ""}, ["Give exactly one of id_token, customer_identifier, customer_certificate.",
                      "Ask for a report, a clear or both."]),
    ({"certificate_hash_algorithm": "SHA256", "certificate_serial_number": "01"},
     ["A customer certificate needs all four of hash algorithm, issuer name hash, issuer key "
      "hash and serial number."]),
])
def test_form_errors_are_listed_beside_the_form(dashboard, connect_station, identity, fields,
                                                expected):
    connect_station(identity)
    answer = dashboard.submit(LIST, {**SEND, "station": identity, **fields})
    assert answer.status_code == 400
    assert errors_of(answer.text) == expected
    assert f'<option value="{identity}" selected>' in answer.text  # the choice stays
    assert not CustomerInformationRequest.objects.filter(station__identity=identity).exists()


def test_a_16_station_or_unknown_one_is_refused_with_a_reason(dashboard, connect_station, identity):
    connect_station(identity, "1.6")
    for station in (identity, "CS-nowhere"):
        answer = dashboard.submit(LIST, {**SEND, "station": station, "id_token": "T-1"})
        assert answer.status_code == 400
        assert errors_of(answer.text) == [
            "Station: Choose an OCPP 2.0.1 station: CustomerInformation is OCPP 2.0.1 only."]
    assert not CustomerInformationRequest.objects.filter(station__identity=identity).exists()


def test_a_request_answered_in_three_parts(dashboard, connect_station, identity):
    station = connect_station(identity)
    station.answers["CustomerInformation"] = {"status": "Accepted"}
    answer = dashboard.submit(LIST, {**SEND, "station": identity, "id_token": "CUSTOMER-9",
                                     "id_token_type": "eMAID", "clear": "on"})
    info = CustomerInformationRequest.objects.get(station__identity=identity)
    assert answer.url.path == f"{LIST}{info.pk}/"
    sent = f"CustomerInformation sent to {identity} (requestId {info.pk}): receiving."
    assert sent in answer.text
    _, action, payload = station.next_call()
    assert (action, payload) == ("CustomerInformation", {
        "requestId": info.pk, "report": True, "clear": True,
        "idToken": {"idToken": "CUSTOMER-9", "type": "eMAID"}})
    assert 'id="customer-information-document-pending"' in answer.text
    assert 'id="customer-information-download"' not in answer.text
    texts = ["Sessions: 2026-02-01 12.1 kWh; ", "2026-02-09 8.4 kWh <card>; ", "local list: yes"]
    for seq_no, text in enumerate(texts):
        assert station.call("NotifyCustomerInformation",
                            part(info.pk, seq_no, text, seq_no < 2)) == {}
    page = dashboard.get(f"{LIST}{info.pk}/")
    document = re.search(r'<pre [^>]*id="customer-information-document"[^>]*>(.*?)</pre>',
                         page.text, re.S).group(1)
    assert document == "".join(texts).replace("<", "&lt;").replace(">", "&gt;")  # escaped
    assert re.search(r'id="customer-information-status">complete<', page.text)
    assert page.text.count("<tr><td>") == 3  # the parts, one row each
    download = dashboard.get(f"{LIST}{info.pk}/download/")
    assert download.status_code == 200 and download.text == "".join(texts)
    assert download.headers["content-disposition"] == (
        f'attachment; filename="customer-information-{identity}-{info.pk}.txt"')
    listed = dashboard.get(LIST, params={"station": identity}).text
    row = re.search(rf'<tr data-request="{info.pk}">(.*?)</tr>', listed, re.S).group(1)
    assert "CUSTOMER-9 (eMAID)" in row and "report + clear" in row and "complete" in row
    assert "3 of 3" in row


def test_a_clear_by_certificate_and_an_incomplete_download(dashboard, connect_station, identity):
    station = connect_station(identity)
    station.answers["CustomerInformation"] = {"status": "Rejected"}
    certificate = {"certificate_hash_algorithm": "SHA384", "certificate_issuer_name_hash": "aa",
                   "certificate_issuer_key_hash": "bb", "certificate_serial_number": "0F"}
    answer = dashboard.submit(LIST, {**SEND, "station": identity, "report": "", "clear": "on",
                                     **certificate})
    info = CustomerInformationRequest.objects.get(station__identity=identity)
    assert info.customer_certificate == {"hashAlgorithm": "SHA384", "issuerNameHash": "aa",
                                         "issuerKeyHash": "bb", "serialNumber": "0F"}
    assert info.status == "rejected" and "): rejected." in answer.text
    assert "certificate</small> serial 0F" in answer.text
    # No document to download: the page says why instead.
    download = dashboard.get(f"{LIST}{info.pk}/download/", follow_redirects=True)
    assert download.url.path == f"{LIST}{info.pk}/"
    assert f"Request {info.pk} is rejected: its document is not complete yet." in download.text
    assert dashboard.get(f"{LIST}999999999/").status_code == 404
