"""Customer information (2.0.1 N09/N10) against scripted stations: a request answered in three
NotifyCustomerInformation parts, parts out of order and repeated, validation, the document as a
download; and the CSMS-side erasure of a token's personal data, which keeps the billing data."""
import uuid
from decimal import Decimal

from rest_framework.authtoken.models import Token

from csms.models import Command, MessageLogEntry
from tests.helpers import eventually
from tests.transactions_helpers import (
    new_token, normal_session, start_16, stop_16, tariff_for_station,
)
from transactions.models import (
    CustomerInformationRequest, IdToken, IdTokenErasure, Transaction, TransactionEvent,
)


def ask(api, identity, expect=201, **fields):
    body = {"station": identity, "report": True, "id_token": "CUSTOMER-1", "wait": 20, **fields}
    response = api.post("/customer-information/", json=body)
    assert response.status_code == expect, response.text
    return response.json()


def part(request_id, seq_no, data, tbc):
    return {"requestId": request_id, "seqNo": seq_no, "data": data, "tbc": tbc,
            "generatedAt": "2026-03-01T08:00:00Z"}


def test_a_request_with_three_parts(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["CustomerInformation"] = {"status": "Accepted"}
    request = ask(api, identity, id_token_type="ISO14443")
    assert request["status"] == "receiving"
    assert request["command"]["payload"] == {
        "requestId": request["request_id"], "report": True, "clear": False,
        "idToken": {"idToken": "CUSTOMER-1", "type": "ISO14443"}}
    texts = ["Sessions: 2026-02-01 12.1 kWh; ", "2026-02-09 8.4 kWh; ", "local list: yes"]
    for seq_no, text in enumerate(texts):
        assert station.call("NotifyCustomerInformation",
                            part(request["request_id"], seq_no, text, seq_no < 2)) == {}
        if seq_no < 2:
            assert CustomerInformationRequest.objects.get(pk=request["id"]).status == "receiving"
    done = api.get(f"/customer-information/{request['id']}/").json()
    assert done["status"] == "complete" and done["part_count"] == 3 and done["completed_at"]
    assert done["document"] == "".join(texts)
    download = api.get(f"/customer-information/{request['id']}/download/")
    assert download.status_code == 200 and download.text == "".join(texts)
    assert download.headers["content-type"].startswith("text/plain")
    assert "attachment" in download.headers["content-disposition"]
    listed = api.get("/customer-information/", params={"station": identity}).json()
    assert [row["id"] for row in listed["results"]] == [request["id"]]
    assert "document" not in listed["results"][0]


def test_parts_out_of_order_and_repeated(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["CustomerInformation"] = {"status": "Accepted"}
    request = ask(api, identity, customer_identifier="contract-42", id_token="")
    request_id = request["request_id"]
    assert request["command"]["payload"]["customerIdentifier"] == "contract-42"
    station.call("NotifyCustomerInformation", part(request_id, 2, "C", False))
    station.call("NotifyCustomerInformation", part(request_id, 0, "A", True))
    station.call("NotifyCustomerInformation", part(request_id, 0, "A-again", True))  # a replay
    pending = api.get(f"/customer-information/{request_id}/").json()
    assert pending["status"] == "receiving" and pending["document"] == ""
    assert api.get(f"/customer-information/{request_id}/download/").status_code == 409
    station.call("NotifyCustomerInformation", part(request_id, 1, "B", True))
    station.call("NotifyCustomerInformation", part(request_id, 1, "B", True))
    done = api.get(f"/customer-information/{request_id}/").json()
    assert (done["status"], done["document"], done["part_count"]) == ("complete", "ABC", 3)


def test_validation_and_answers(connect_station, identity, api):
    station = connect_station(identity)
    both = ask(api, identity, expect=400, customer_identifier="x")
    assert "exactly one" in str(both)
    neither = ask(api, identity, expect=400, report=False, clear=False)
    assert "report, a clear or both" in str(neither)
    assert not CustomerInformationRequest.objects.filter(station__identity=identity).exists()
    station.answers["CustomerInformation"] = {"status": "Invalid"}
    refused = ask(api, identity, report=False, clear=True, id_token="", customer_certificate={
        "hashAlgorithm": "SHA256", "issuerNameHash": "ab", "issuerKeyHash": "cd",
        "serialNumber": "01"})
    assert refused["status"] == "rejected"
    assert refused["command"]["payload"]["customerCertificate"]["serialNumber"] == "01"
    station.answers["CustomerInformation"] = {"status": "Accepted"}
    cleared = ask(api, identity, report=False, clear=True)
    assert cleared["status"] == "complete" and cleared["document"] == ""
    # A requestId the CSMS never sent is answered, never an error.
    assert station.call("NotifyCustomerInformation", part(2_000_000_000, 0, "x", False)) == {}
    connect_station(identity + "-16", "1.6")
    old = ask(api, identity + "-16", expect=400)
    assert "2.0.1 only" in str(old)


def test_erasure_keeps_billing_data(connect_station, identity, api):
    station = connect_station(identity)
    tariff_for_station(identity)
    token = new_token(personal_message="Hello Alice", language="en", description="Alice's card")
    value = token.id_token
    transaction_id = f"tx-{uuid.uuid4().hex[:8]}"
    for payload in normal_session(transaction_id, token):
        station.call("TransactionEvent", payload)
    before = Transaction.objects.get(station__identity=identity, transaction_id=transaction_id)
    assert before.id_token_value == value and before.total_cost is not None
    # The same card charged at a 1.6 station (idTag, no type) too.
    old = connect_station(identity + "-16", "1.6")
    started_16 = old.call("StartTransaction", start_16(1, value, 1000, 0))
    old.call("StopTransaction", stop_16(started_16["transactionId"], 4000, 600, idTag=value))
    before_16 = Transaction.objects.get(transaction_id=str(started_16["transactionId"]),
                                        station__identity=identity + "-16")
    assert before_16.id_token_value == value and before_16.energy_wh == Decimal("3000")
    # A remote start carried the value in a command too.
    station.answers["RequestStartTransaction"] = {"status": "Accepted"}
    started = api.post(f"/stations/{identity}/start-transaction/", json={
        "id_token": value, "evse_id": 1, "wait": 20})
    assert started.status_code in (201, 202), started.text
    eventually(lambda: MessageLogEntry.objects.filter(frame__contains=f'"{value}"').exists())

    station.answers["CustomerInformation"] = {"status": "Accepted"}
    response = api.post(f"/id-tokens/{token.pk}/erase/", json={
        "reason": "GDPR request 2026-17", "clear_at_stations": True})
    assert response.status_code == 200, response.text
    audit = response.json()
    assert audit["erased_by"] == "operator" and audit["reason"] == "GDPR request 2026-17"
    assert audit["pseudonym"].startswith("erased-") and value not in str(audit)
    assert audit["erased"]["transactions"] == 2
    assert set(audit["erased"]["token_fields"]) >= {"id_token", "personal_message", "language",
                                                    "description"}
    [sent] = audit["erased"]["station_requests"]
    assert sent["station"] == identity

    token.refresh_from_db()
    assert token.id_token == audit["pseudonym"] and token.status == "Invalid"
    assert (token.personal_message, token.language, token.description) == ("", "", "")
    after = Transaction.objects.get(pk=before.pk)
    assert after.id_token_value == audit["pseudonym"]
    assert (after.energy_wh, after.total_cost, after.currency, after.started_at, after.ended_at) \
        == (before.energy_wh, before.total_cost, before.currency, before.started_at,
            before.ended_at)
    assert after.energy_wh == Decimal("7500")
    assert not any(value in str(event.payload) for event in
                   TransactionEvent.objects.filter(transaction=after))
    after_16 = Transaction.objects.get(pk=before_16.pk)
    assert after_16.id_token_value == audit["pseudonym"] and after_16.energy_wh == Decimal("3000")
    assert value not in after_16.start_fingerprint and value not in after_16.stop_id_token_value
    assert not any(value in str(event.payload) for event in after_16.events.all())
    # The station was asked to clear the customer's data too; once answered nothing keeps it.
    clear = CustomerInformationRequest.objects.get(pk=sent["request_id"])
    eventually(lambda: CustomerInformationRequest.objects.get(pk=clear.pk).status == "complete")
    eventually(lambda: value not in str(Command.objects.get(pk=clear.command_id).payload))
    assert not IdToken.objects.filter(id_token=value).exists()
    assert not any(value in str(command.payload) for command in Command.objects.filter(
        identity=identity))
    # Frames logged before the erasure carry the pseudonym instead.
    assert not MessageLogEntry.objects.filter(identity=identity, action="RequestStartTransaction",
                                              frame__contains=value).exists()
    assert MessageLogEntry.objects.filter(identity=identity, action="RequestStartTransaction",
                                          frame__contains=audit["pseudonym"]).exists()
    assert IdTokenErasure.objects.get(pk=audit["id"]).id_token_id == token.pk
    # Erasing twice is refused with a reason.
    again = api.post(f"/id-tokens/{token.pk}/erase/", json={})
    assert again.status_code == 400 and "erased already" in again.text


def test_erasure_is_for_operators_only(csms, api):
    from django.contrib.auth.models import User

    user = User.objects.create_user(f"viewer-{uuid.uuid4().hex[:6]}", password="x")
    key = Token.objects.create(user=user).key
    token = new_token(personal_message="keep me")
    response = api.post(f"/id-tokens/{token.pk}/erase/", json={},
                        headers={"Authorization": f"Token {key}"})
    assert response.status_code == 403 and "operators" in response.json()["detail"]
    token.refresh_from_db()
    assert token.personal_message == "keep me" and not token.erasures.exists()


def test_the_sweep_applies_answers_a_receiver_left(identity):
    from stations.models import Station
    from transactions import tasks

    station = Station.objects.create(identity=identity, ocpp_version="2.0.1")
    answered = Command.objects.create(identity=identity, ocpp_version="2.0.1",
                                      action="CustomerInformation", status="accepted",
                                      response={"status": "Accepted"})
    request = CustomerInformationRequest.objects.create(station=station, report=True,
                                                        customer_identifier="c-1", command=answered)
    tasks.settle_customer_information()
    request.refresh_from_db()
    assert request.status == "receiving"


# --- pure parts: assembly and the token replacement (hypothesis) --------------------------------

from hypothesis import given, settings as hypothesis_settings, strategies as st  # noqa: E402

from transactions.actions.customer_data import _replaced, assembled_document  # noqa: E402


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), min_size=1, max_size=8), st.data())
def test_any_arrival_order_with_repeats_gives_the_same_document(texts, data):
    arrivals = list(range(len(texts))) + data.draw(st.lists(
        st.integers(0, len(texts) - 1), max_size=5), label="repeats")
    order = data.draw(st.permutations(arrivals), label="order")
    parts, last, documents = {}, None, []
    for seq_no in order:
        parts.setdefault(str(seq_no), {"data": texts[seq_no]})  # a repeat is kept once
        if seq_no == len(texts) - 1:
            last = seq_no
        documents.append(assembled_document(parts, last))
    # Nothing before every part is in; then the whole document, in seqNo order.
    first = next(index for index, document in enumerate(documents) if document is not None)
    assert first == max(order.index(number) for number in range(len(texts)))
    assert set(documents[first:]) == {"".join(texts)}


TOKENS = st.text(alphabet="AB1", min_size=1, max_size=3)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(0, 3) | TOKENS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["idToken", "idTag", "parentIdTag", "messageId", "type", "1"]), inner,
        max_size=3), max_leaves=12)


def token_values(data, key=None):
    if isinstance(data, str):
        return [data] if key in {"idToken", "idTag", "parentIdTag"} else []
    if isinstance(data, list):
        return [found for item in data for found in token_values(item, key)]
    if isinstance(data, dict):
        return [found for name, item in data.items() for found in token_values(item, name)]
    return []


def strings_elsewhere(data, key=None):
    if isinstance(data, str):
        return [] if key in {"idToken", "idTag", "parentIdTag"} else [data]
    if isinstance(data, list):
        return [found for item in data for found in strings_elsewhere(item, key)]
    if isinstance(data, dict):
        return [found for name, item in data.items() for found in strings_elsewhere(item, name)]
    return []


@hypothesis_settings(max_examples=300, deadline=None)
@given(JSON, TOKENS)
def test_replacement_touches_token_fields_only(data, value):
    result = _replaced(data, value, "erased-x")
    assert value not in token_values(result)
    assert strings_elsewhere(result) == strings_elsewhere(data)  # message ids etc. untouched
    assert token_values(result) == ["erased-x" if found == value else found
                                    for found in token_values(data)]
