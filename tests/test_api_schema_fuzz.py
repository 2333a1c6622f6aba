"""Schemathesis against the OpenAPI schema: no query string, body or path makes the API answer
500 or anything but JSON, and its answers match the schema (status, content type, shape)."""
import json
import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from tests import environment
from tests.api_servers import own_database_server
from tests.devicemodel_helpers import notify_report, report_item, request_report
from tests.station import StationClient
from tests.transactions_helpers import at, meter_values_16, normal_session, start_16, stop_16

STATION_201, STATION_16 = "FUZZ-201", "FUZZ-16"
TOKEN = {"idToken": "FUZZ-TAG", "type": "ISO14443"}
# Not JSON by design: the OpenAPI document itself, the Swagger page and the CSV export.
NOT_JSON = ("/api/v1/schema/", "/api/v1/docs/", "/api/v1/transactions/export/")
# Examples per operation: bounded so the file runs in a few minutes on two cores; raise it
# (CSMS_FUZZ_EXAMPLES) for a deeper search.
EXAMPLES = int(os.environ.get("CSMS_FUZZ_EXAMPLES", "12"))


@schemathesis.check
def json_answer(ctx, response, case):
    """Every answer with a body is JSON (not Django's HTML pages, not a bare proxy 400)."""
    if case.operation.path in NOT_JSON or (response.status_code == 204 and not response.content):
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith("application/json"):
        raise AssertionError(f"{response.status_code} answered {content_type!r}, not JSON: "
                             f"{response.text[:200]!r}")
    return None


def seed(server, token):
    """What a network has: two stations (2.0.1, 1.6) with sessions, events, an inventory report,
    commands, a tariff and a reservation; the stations then go away (commands end offline)."""
    api = httpx.Client(base_url=f"{server.base_url}/api/v1", timeout=60,
                       headers={"Authorization": f"Token {token}"})
    for identity in (STATION_201, STATION_16):
        assert api.post("/stations/", json={"identity": identity}).status_code == 201
    assert api.post("/id-tokens/", json={"id_token": TOKEN["idToken"], "type": "ISO14443"}).status_code == 201
    assert api.post("/tariffs/", json={"name": "fuzz", "price_per_kwh": "0.30",
                                       "stations": [STATION_201, STATION_16]}).status_code == 201
    with StationClient(server.ws_url, STATION_201) as station:
        station.boot()
        station.status("Available")
        for payload in normal_session("FUZZ-TX-1", TOKEN):
            station.call("TransactionEvent", payload)
        report = request_report(api, station)
        notify_report(station, report["request_id"], 0, [
            report_item("EVSE", "Power", "7400", evse_id=1, unit="W", max_limit=22000),
            report_item("ChargingStation", "Temperature", "21", data_type="decimal"),
        ], False)
        station.call("NotifyEvent", {"generatedAt": at(0), "seqNo": 0, "eventData": [
            {"eventId": 1, "timestamp": at(0), "trigger": "Alerting", "actualValue": "80",
             "eventNotificationType": "HardWiredMonitor", "component": {"name": "ChargingStation"},
             "variable": {"name": "Temperature"}}]})
        station.answers["GetVariables"] = lambda payload: {"getVariableResult": [
            {"attributeStatus": "Accepted", "attributeValue": "7400", **item}
            for item in payload["getVariableData"]]}
        assert api.post(f"/stations/{STATION_201}/variables/get/", json={"wait": 20, "items": [
            {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}]}
        ).status_code == 201
        station.answers["ReserveNow"] = {"status": "Accepted"}
        assert api.post(f"/stations/{STATION_201}/reserve/", json={
            "id_token": TOKEN["idToken"], "expires_at": at(86400 * 365), "evse_id": 1, "wait": 20},
        ).status_code == 201
        assert api.post(f"/stations/{STATION_201}/reset/", json={"wait": 20}).status_code == 201
    with StationClient(server.ws_url, STATION_16, "1.6") as station:
        station.boot()
        station.status("Available")
        started = station.call("StartTransaction", start_16(1, TOKEN["idToken"], 1000, 0))
        station.call("MeterValues", meter_values_16(1, started["transactionId"], 2500, 600))
        station.call("StopTransaction", stop_16(started["transactionId"], 4000, 1200))
    api.close()


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory):
    # Its own database: the fuzz writes, replaces and deletes what it finds, so the shared
    # session data other test files rely on is never its target.
    with own_database_server("server-fuzz", tmp_path_factory.mktemp("fuzz"),
                             postgres=environment.BACKEND == "services") as (server, token):
        seed(server, token)
        yield server, token


def served_schema():
    """The OpenAPI document /api/v1/schema/ serves, built in this process at collection time
    (test_the_fuzzed_schema_is_the_served_one proves they are the same)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(served_schema(), config=schemathesis.Config.from_dict({
    "generation": {"mode": "all", "deterministic": True, "max-examples": EXAMPLES},
    # Half the cases address the seeded objects, so real rows are read, changed and answered.
    "dictionaries": {"stations": {"values": [STATION_201, STATION_16]}, "ids": {"values": [1, 2]}},
    "parameters": {"path.identity": {"dictionary": "stations", "probability": 0.5},
                   "path.id": {"dictionary": "ids", "probability": 0.5},
                   "path.request_id": {"dictionary": "ids", "probability": 0.5}},
}))
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         phases=[Phase.generate],
                         suppress_health_check=list(HealthCheck))
CHECKS = [not_a_server_error, json_answer, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def call(case, server, token):
    case.call_and_validate(base_url=server.base_url, headers={"Authorization": f"Token {token}"},
                           checks=CHECKS, timeout=60)


def test_the_fuzzed_schema_is_the_served_one(fuzzed_server):
    server, token = fuzzed_server
    served = httpx.get(f"{server.base_url}/api/v1/schema/", params={"format": "json"}, timeout=60,
                       headers={"Authorization": f"Token {token}"})
    assert served.status_code == 200
    assert served.json() == served_schema()


@schema.exclude(method="DELETE").parametrize()
@FUZZ_SETTINGS
def test_api_answers_within_its_schema(case, fuzzed_server):
    call(case, *fuzzed_server)


# After the others: deleting the seeded stations first would leave their endpoints nothing to read.
@schema.include(method="DELETE").parametrize()
@FUZZ_SETTINGS
def test_deletes_answer_within_the_schema(case, fuzzed_server):
    call(case, *fuzzed_server)


def test_the_fuzzed_server_stayed_up_and_logged_no_crash(fuzzed_server):
    server, _ = fuzzed_server
    assert httpx.get(f"{server.base_url}/healthz/", timeout=30).status_code == 200
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log and ": unhandled " not in log, log[-3000:]
