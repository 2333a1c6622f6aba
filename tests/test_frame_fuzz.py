"""Fuzzing of parse_frame -> handler with hypothesis: any bytes, any nesting, any JSON.

(a) parse_frame raises nothing but OcppError; (b) over a real WebSocket, random frames never close
the socket, every CALL-shaped frame is answered (CALLRESULT or CALLERROR) and a Heartbeat is
still answered afterwards."""
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, seed, settings, strategies as st

from csms.ocpp import schemas
from csms.ocpp.framing import (
    CALL, MAX_NESTING_DEPTH, OCPP16, OCPP201, UNKNOWN_MESSAGE_ID, Call, CallError, CallResult,
    OcppError, error_frame, parse_frame,
)
from tests.station import StationClient

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)
ACTIONS = sorted(schemas.actions(OCPP201) | schemas.actions(OCPP16)) + ["", "MakeCoffee"]
message_ids = st.text(max_size=40) | st.integers() | st.none()


@st.composite
def deep_nesting(draw):
    depth = draw(st.integers(min_value=1, max_value=3000))
    opener = draw(st.sampled_from(["[", '{"a":']))
    closer = "]" if opener == "[" else "}"
    body = opener * depth + "1" + closer * depth
    prefix = draw(st.sampled_from(['[2,"d","Heartbeat",{"a":', '[3,"d",{"a":', "[", ""]))
    suffix = {'[2,"d","Heartbeat",{"a":': "}]", '[3,"d",{"a":': "}]", "[": "]", "": ""}[prefix]
    return prefix + body + suffix


@st.composite
def frame_shaped(draw):
    """Arrays that look like OCPP-J frames, with any of their parts wrong."""
    message_type = draw(st.sampled_from([2, 3, 4, 0, 5, "2", 2.0]) | json_scalars)
    parts = [message_type, draw(message_ids)]
    if message_type == CALL:
        parts += [draw(st.sampled_from(ACTIONS) | st.text(max_size=10)), draw(json_values)]
    else:
        parts += draw(st.lists(json_values, max_size=3))
    parts = parts[:draw(st.integers(min_value=0, max_value=len(parts)))] if draw(st.booleans()) and draw(st.booleans()) else parts
    return json.dumps(parts)


frames = (
    frame_shaped()
    | deep_nesting()
    | st.text(max_size=200)
    | st.binary(max_size=200).map(lambda raw: raw.decode("utf-8", errors="replace"))
    | json_values.map(json.dumps)
    | st.sampled_from(['[2,"n","Heartbeat",{"a":NaN}]', '[2,"s","Heartbeat",{"a":"\\ud800"}]',
                       '[2,"\\udfff","Heartbeat",{}]', "[2," + "1" * 5000 + "]", '[2,"x","Heartbeat",{}'])
)


@seed(14)
@settings(max_examples=1000, deadline=None)
@given(frames)
def test_parse_frame_raises_only_ocpp_errors(text):
    try:
        frame = parse_frame(text)
    except OcppError as error:
        # Whatever it says can be sent back as a CALLERROR.
        for version in (OCPP201, OCPP16):
            error_frame(error.message_id or UNKNOWN_MESSAGE_ID, error.code_for(version),
                        error.description, error.details).encode("utf-8")
        return
    assert isinstance(frame, (Call, CallResult, CallError))


def test_nesting_limit_is_exact():
    at_limit = '[2,"m","Heartbeat",{"a":' + "[" * (MAX_NESTING_DEPTH - 2) + "]" * (MAX_NESTING_DEPTH - 2) + "}]"
    assert isinstance(parse_frame(at_limit), Call)
    with pytest.raises(OcppError) as refused:
        parse_frame('[2,"m","Heartbeat",{"a":' + "[" * (MAX_NESTING_DEPTH - 1) + "]" * (MAX_NESTING_DEPTH - 1) + "}]")
    assert (refused.value.kind, refused.value.message_id) == ("FormatViolation", "m")


def expected_answer_id(text):
    """The id the CSMS answers a frame with, or None when it must not answer (an answer frame)."""
    try:
        frame = parse_frame(text)
    except OcppError as error:
        return (error.message_id or UNKNOWN_MESSAGE_ID) if error.answer else None
    return frame.message_id if isinstance(frame, Call) else None


@pytest.fixture(scope="module", params=["2.0.1", "1.6"])
def fuzzed_station(csms, request):
    station = StationClient(csms.ws_url, f"FUZZ-{uuid.uuid4().hex[:8]}", request.param)
    assert station.boot()["status"] == "Accepted"
    yield station
    station.close()


@pytest.mark.parametrize("as_bytes", [False, True])
@seed(14)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=frames)
def test_random_frames_are_answered_and_never_close_the_socket(fuzzed_station, as_bytes, text):
    station = fuzzed_station
    if as_bytes:  # a binary frame is read as UTF-8, unreadable bytes replaced
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    answer_id = expected_answer_id(text)
    while not station.raw_frames.empty():
        station.raw_frames.get()
    station.socket.send(text.encode("utf-8", errors="replace") if as_bytes else text)
    if answer_id is not None:
        while True:
            answer = json.loads(station.raw_frames.get(timeout=15))
            if answer[0] in (3, 4) and answer[1] == answer_id:
                break
    assert not station.closed.is_set(), f"closed with {station.close_code} after {text[:200]!r}"
    assert "currentTime" in station.call("Heartbeat", {}, timeout=15)
