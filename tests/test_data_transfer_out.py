"""DataTransfer sent to stations as a typed operation (both versions, answers and outcomes kept),
every exchange recorded in both directions and listed (API, station page rows), and the example
vendor module shipped with the product answering."""

import pytest

from stations.models import DataTransferExchange
from tests.conftest import ServerProcess
from tests.helpers import eventually, send_command

VERSIONS = ["2.0.1", "1.6"]
EXAMPLE = "org.csms.example"


@pytest.fixture(scope="module")
def example_server(csms):
    server = ServerProcess("server-data-transfer-example",
                           {"OCPP_DATA_TRANSFER_MODULES": "stations.datatransfer_example"}).start()
    yield server
    server.stop()


def exchanges(identity, **filters):
    return list(DataTransferExchange.objects.filter(station__identity=identity, **filters)
                .order_by("id"))


@pytest.mark.parametrize("version,data", [("2.0.1", {"limit": [1, 2], "on": True}),
                                          ("1.6", "limit=1,2")])
def test_outbound_data_transfer_keeps_the_answer(api, connect_station, identity, version, data):
    station = connect_station(identity, version)
    response = api.post("/data-transfers/", json={"station": identity, "vendor_id": "com.acme",
                                                  "message_id": "SetMode", "data": data})
    assert response.status_code == 202, response.text
    message_id, action, payload = station.next_call()
    assert (action, payload) == ("DataTransfer", {"vendorId": "com.acme", "messageId": "SetMode",
                                                  "data": data})
    station.reply(message_id, {"status": "Accepted", "data": "mode set"})
    pk = response.json()["id"]
    exchange = eventually(lambda: (lambda x: x.status and x)(DataTransferExchange.objects.get(pk=pk)))
    assert (exchange.direction, exchange.status, exchange.answer_data) == ("out", "Accepted",
                                                                          "mode set")
    assert exchange.data == data and exchange.command.action == "DataTransfer"

    # Every answer status is kept as the station said it; `wait` returns it at once.
    station.answers["DataTransfer"] = {"status": "UnknownVendorId"}
    response = api.post("/data-transfers/", json={"station": identity, "vendor_id": "com.other",
                                                  "wait": 10})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["message_id"], body["data"]) == ("UnknownVendorId", "", None)
    assert body["command"]["payload"] == {"vendorId": "com.other"}


def test_outbound_refusals_and_outcomes(api, connect_station, identity):
    connect_station(identity, "1.6")
    response = api.post("/data-transfers/", json={"station": identity, "vendor_id": "com.acme",
                                                  "data": {"not": "a string"}})
    assert response.status_code == 400 and "1.6 DataTransfer data is a string" in response.text
    response = api.post("/data-transfers/", json={"station": identity, "vendor_id": "v" * 256})
    assert response.status_code == 400
    assert not exchanges(identity)  # nothing recorded for a refused request

    offline = f"{identity}-gone"
    connect_station(offline).close()
    eventually(lambda: api.get(f"/stations/{offline}/").json()["online"] is False)
    response = api.post("/data-transfers/", json={"station": offline, "vendor_id": "com.acme"})
    assert response.status_code == 201 and response.json()["status"] == "offline"
    never = api.post("/stations/", json={"identity": f"{identity}-new"})
    assert never.status_code == 201
    response = api.post("/data-transfers/", json={"station": f"{identity}-new",
                                                  "vendor_id": "com.acme"})
    assert response.status_code == 409


@pytest.mark.parametrize("version", VERSIONS)
def test_both_directions_listed(api, connect_station, operator_client, identity, version):
    station = connect_station(identity, version)
    long_text = "x" * 500
    assert station.call("DataTransfer", {"vendorId": "com.nobody", "messageId": "Hi",
                                         "data": long_text}) == {"status": "UnknownVendorId"}
    # A DataTransfer sent as a generic command shows too.
    station.answers["DataTransfer"] = {"status": "Rejected", "data": "no"}
    assert send_command(api, identity, "DataTransfer", {"vendorId": "com.acme"}).status_code == 201
    rows = eventually(lambda: (lambda found: len(found) == 2 and found)(exchanges(identity)))
    inbound, outbound = rows
    assert (inbound.direction, inbound.vendor_id, inbound.message_id, inbound.data,
            inbound.status) == ("in", "com.nobody", "Hi", long_text, "UnknownVendorId")
    assert (outbound.direction, outbound.status, outbound.answer_data) == ("out", "Rejected", "no")

    listed = api.get("/data-transfers/", params={"station": identity}).json()["results"]
    assert [(item["direction"], item["status"]) for item in listed] == [
        ("out", "Rejected"), ("in", "UnknownVendorId")]
    assert [item["id"] for item in api.get("/data-transfers/", params={
        "station": identity, "direction": "in"}).json()["results"]] == [inbound.pk]

    page = operator_client.get(f"/stations/{identity}/data-transfers/")
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<tr data-exchange=") == 2
    assert long_text not in html and "x" * 80 + "…" in html  # truncated, with a link to the whole
    whole = operator_client.get(f"/stations/{identity}/data-transfers/{inbound.pk}/")
    assert whole.status_code == 200 and long_text in whole.content.decode()
    assert operator_client.get(f"/stations/{identity}-x/data-transfers/{inbound.pk}/"
                               ).status_code == 404


@pytest.mark.parametrize("version", VERSIONS)
def test_example_vendor_module_answers(connect_station, example_server, identity, version):
    station = connect_station(identity, version, server=example_server)
    ping = "hello" if version == "1.6" else {"n": 1}
    assert station.call("DataTransfer", {"vendorId": EXAMPLE, "messageId": "Ping",
                                         "data": ping}) == {"status": "Accepted", "data": ping}
    clock = station.call("DataTransfer", {"vendorId": EXAMPLE, "messageId": "Clock",
                                          "data": "2026-01-01T00:00:00Z"})
    assert clock["status"] == "Accepted" and clock["data"].endswith("Z")
    assert station.call("DataTransfer", {"vendorId": EXAMPLE, "messageId": "Clock",
                                         "data": "yesterday"})["status"] == "Rejected"
    assert station.call("DataTransfer", {"vendorId": EXAMPLE, "messageId": "Nope"}) == {
        "status": "UnknownMessageId"}
    assert [(x.message_id, x.status) for x in exchanges(identity)] == [
        ("Ping", "Accepted"), ("Clock", "Accepted"), ("Clock", "Rejected"),
        ("Nope", "UnknownMessageId")]


def test_recording_an_inbound_transfer_is_one_insert(identity):
    """It runs on the station's database thread, in the handler's path: one query, no more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from stations.actions.datatransfer import record_inbound
    from stations.models import Station

    station = Station.objects.create(identity=identity)
    with CaptureQueriesContext(connection) as queries:
        record_inbound(station.pk, {"vendorId": "com.acme", "messageId": "M", "data": [1]},
                       {"status": "Accepted", "data": {"ok": True}})
    assert len(queries) == 1 and queries[0]["sql"].startswith("INSERT")
    assert (exchanges(identity)[0].answer_data, exchanges(identity)[0].status) == (
        {"ok": True}, "Accepted")


def test_sweep_settles_what_a_failed_receiver_left(identity):
    from django.utils import timezone

    from csms.models import Command
    from stations.actions.datatransfer import create_outbound, settle_finished
    from stations.models import Station

    station = Station.objects.create(identity=identity, ocpp_version="2.0.1")
    exchange = create_outbound(station, "com.acme", "M", "x")
    exchange.command = Command.objects.create(
        identity=identity, ocpp_version="2.0.1", action="DataTransfer",
        payload={"vendorId": "com.acme", "messageId": "M", "data": "x"},
        status=Command.Status.REJECTED, response={"status": "UnknownMessageId"},
        finished_at=timezone.now())
    exchange.save()
    settle_finished()  # (the beat runs the same sweep)
    exchange.refresh_from_db()
    assert (exchange.status, exchange.answer_data) == ("UnknownMessageId", None)
