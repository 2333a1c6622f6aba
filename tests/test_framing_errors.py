"""Every broken frame gets the right CALLERROR for its version, and the connection stays up."""
import json

import pytest

from tests.station import CallFailed

STATUS_201 = {"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": 1,
              "connectorId": 1}
STATUS_16 = {"connectorId": 1, "status": "Available", "errorCode": "NoError"}

# (name, raw frame text, id the answer carries, 2.0.1 code, 1.6 code)
BROKEN_FRAMES = [
    ("not json", "this is not json", "-1", "RpcFrameworkError", "ProtocolError"),
    ("not an array", json.dumps({"id": 1}), "-1", "RpcFrameworkError", "ProtocolError"),
    ("id not a string", json.dumps([2, 17, "Heartbeat", {}]), "-1", "RpcFrameworkError", "ProtocolError"),
    ("id too long", json.dumps([2, "x" * 37, "Heartbeat", {}]), "-1", "RpcFrameworkError", "ProtocolError"),
    ("call too short", json.dumps([2, "m1", "Heartbeat"]), "m1", "RpcFrameworkError", "ProtocolError"),
    ("payload not object", json.dumps([2, "m2", "Heartbeat", []]), "m2", "FormatViolation", "FormationViolation"),
    ("unknown message type", json.dumps([7, "m3", "Heartbeat", {}]), "m3", "MessageTypeNotSupported", "ProtocolError"),
    ("unknown action", json.dumps([2, "m4", "MakeCoffee", {}]), "m4", "NotImplemented", "NotImplemented"),
    # Deeper than framing.MAX_NESTING_DEPTH (64): refused before parsing, with the frame's own id.
    ("nested 1000 deep", '[2,"m5","Heartbeat",{"a":' + "[" * 1000 + "]" * 1000 + "}]", "m5",
     "FormatViolation", "FormationViolation"),
    ("nested 900 deep", '[2,"m6","Heartbeat",{"a":' + "[" * 900 + "]" * 900 + "}]", "m6",
     "FormatViolation", "FormationViolation"),
    ("nested 100000 deep, not a call", "[" * 100_000, "-1", "RpcFrameworkError", "ProtocolError"),
    ("NaN is not JSON", '[2,"m7","Heartbeat",{"a":NaN}]', "-1", "RpcFrameworkError", "ProtocolError"),
    ("lone surrogate escape", '[2,"m8","Heartbeat",{"a":"\\ud800"}]', "m8", "FormatViolation",
     "FormationViolation"),
]


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
@pytest.mark.parametrize("name,text,answer_id,code_201,code_16", BROKEN_FRAMES, ids=[f[0] for f in BROKEN_FRAMES])
def test_broken_frame_answered_with_version_code(connect_station, identity, version, name, text,
                                                 answer_id, code_201, code_16):
    station = connect_station(identity, version)
    with pytest.raises(CallFailed) as failure:
        station.send_frame(text, answer_id)
    assert failure.value.code == (code_201 if version == "2.0.1" else code_16)
    assert "currentTime" in station.call("Heartbeat", {})  # the connection stays up


SCHEMA_CASES = [
    # (name, 2.0.1 payload, 1.6 payload, 2.0.1 code, 1.6 code)
    ("missing required field",
     {k: v for k, v in STATUS_201.items() if k != "evseId"},
     {k: v for k, v in STATUS_16.items() if k != "errorCode"},
     "OccurrenceConstraintViolation", "OccurenceConstraintViolation"),
    ("wrong type", dict(STATUS_201, evseId="one"), dict(STATUS_16, connectorId="one"),
     "TypeConstraintViolation", "TypeConstraintViolation"),
    ("value outside enum", dict(STATUS_201, connectorStatus="Exploded"), dict(STATUS_16, status="Exploded"),
     "PropertyConstraintViolation", "PropertyConstraintViolation"),
    ("string too long", dict(STATUS_201, connectorStatus="Available" + "x" * 30),
     dict(STATUS_16, info="x" * 51), "PropertyConstraintViolation", "PropertyConstraintViolation"),
    ("unknown property", dict(STATUS_201, colour="red"), dict(STATUS_16, colour="red"),
     "FormatViolation", "FormationViolation"),
]


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
@pytest.mark.parametrize("name,payload_201,payload_16,code_201,code_16", SCHEMA_CASES, ids=[c[0] for c in SCHEMA_CASES])
def test_schema_failure_gets_matching_constraint_error(connect_station, identity, version, name,
                                                       payload_201, payload_16, code_201, code_16):
    expected = code_201 if version == "2.0.1" else code_16
    station = connect_station(identity, version)
    with pytest.raises(CallFailed) as failure:
        station.call("StatusNotification", payload_201 if version == "2.0.1" else payload_16)
    assert failure.value.code == expected
    assert failure.value.description  # says which field and why


@pytest.mark.parametrize("version,action,payload", [
    ("2.0.1", "GetCertificateStatus", {"ocspRequestData": {
        "hashAlgorithm": "SHA256", "issuerNameHash": "a1", "issuerKeyHash": "b2",
        "serialNumber": "1", "responderURL": "http://ocsp.example"}}),
    ("1.6", "SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----"}),
])
def test_failing_handler_answers_internal_error_and_stays_up(connect_station, identity, version,
                                                            action, payload):
    # tests/vendor_handlers.py registers handlers that raise for these actions.
    station = connect_station(identity, version)
    with pytest.raises(CallFailed) as failure:
        station.call(action, payload)
    assert failure.value.code == "InternalError"
    assert "currentTime" in station.call("Heartbeat", {})


@pytest.mark.parametrize("version,action,payload", [
    ("2.0.1", "Reset", {"type": "Immediate"}),
    ("1.6", "RemoteStopTransaction", {"transactionId": 1}),
])
def test_call_a_station_may_not_send_is_not_supported(connect_station, identity, version, action, payload):
    station = connect_station(identity, version)
    with pytest.raises(CallFailed) as failure:
        station.call(action, payload)
    assert failure.value.code == "NotSupported"


def test_broken_answer_frame_is_dropped_not_answered(connect_station, identity):
    station = connect_station(identity)
    station.socket.send(json.dumps([3, "no-such-call"]))  # CALLRESULT without payload
    assert "currentTime" in station.call("Heartbeat", {})
    frames = []
    while not station.raw_frames.empty():
        frames.append(json.loads(station.raw_frames.get()))
    assert all(frame[0] != 4 for frame in frames)
