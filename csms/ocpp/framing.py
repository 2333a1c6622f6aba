"""OCPP-J framing: CALL / CALLRESULT / CALLERROR arrays and the error codes of each version.

Parsing never raises anything but `OcppError`, which carries the code to answer with.
"""
import json
import re
from dataclasses import dataclass

OCPP16 = "1.6"
OCPP201 = "2.0.1"
SUBPROTOCOLS = {"ocpp2.0.1": OCPP201, "ocpp1.6": OCPP16}

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_MESSAGE_ID_LENGTH = 36
# OCPP-J 2.0.1 §4.2.3: an unreadable message id is answered with id "-1".
UNKNOWN_MESSAGE_ID = "-1"
# Deepest nesting of arrays/objects accepted in a frame, the frame's own array included. The
# deepest official payload (a charging profile's schedule periods, customData) needs about 8;
# deeper frames are refused before parsing, so no recursion limit can be reached downstream.
MAX_NESTING_DEPTH = 64
# The start of a CALL-shaped frame, to answer a frame too deep to parse with its own message id.
CALL_PREFIX = re.compile(r'\s*\[\s*2\s*,\s*"([^"\\]{1,36})"')
ANSWER_PREFIX = re.compile(r"\s*\[\s*[34]\s*,")
STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
BRACKET = re.compile(r"[\[\]{}]")

# Error kinds used inside the CSMS, mapped to each version's spelling. 1.6 has no
# RpcFrameworkError/MessageTypeNotSupported and spells two codes differently (sic).
ERROR_CODES = {
    OCPP201: {
        "FormatViolation": "FormatViolation",
        "GenericError": "GenericError",
        "InternalError": "InternalError",
        "MessageTypeNotSupported": "MessageTypeNotSupported",
        "NotImplemented": "NotImplemented",
        "NotSupported": "NotSupported",
        "OccurrenceConstraintViolation": "OccurrenceConstraintViolation",
        "PropertyConstraintViolation": "PropertyConstraintViolation",
        "ProtocolError": "ProtocolError",
        "RpcFrameworkError": "RpcFrameworkError",
        "SecurityError": "SecurityError",
        "TypeConstraintViolation": "TypeConstraintViolation",
    },
    OCPP16: {
        "FormatViolation": "FormationViolation",
        "GenericError": "GenericError",
        "InternalError": "InternalError",
        "MessageTypeNotSupported": "ProtocolError",
        "NotImplemented": "NotImplemented",
        "NotSupported": "NotSupported",
        "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
        "PropertyConstraintViolation": "PropertyConstraintViolation",
        "ProtocolError": "ProtocolError",
        "RpcFrameworkError": "ProtocolError",
        "SecurityError": "SecurityError",
        "TypeConstraintViolation": "TypeConstraintViolation",
    },
}


class OcppError(Exception):
    """An error to answer with a CALLERROR; `kind` is a 2.0.1 code name."""

    def __init__(self, kind, description="", details=None, message_id=None, answer=True):
        super().__init__(description or kind)
        assert kind in ERROR_CODES[OCPP201], kind
        self.kind = kind
        # A broken CALLRESULT/CALLERROR is logged and dropped: answering an answer loops.
        self.answer = answer
        self.description = description
        self.details = details or {}
        self.message_id = message_id

    def code_for(self, ocpp_version):
        return ERROR_CODES[ocpp_version][self.kind]


@dataclass(frozen=True, slots=True)
class Call:
    message_id: str
    action: str
    payload: dict


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: dict


@dataclass(frozen=True, slots=True)
class CallError:
    message_id: str
    error_code: str
    error_description: str
    error_details: dict


def nesting_depth(text):
    """The deepest nesting of arrays/objects in JSON text, strings skipped."""
    depth = deepest = 0
    for bracket in BRACKET.findall(STRING_LITERAL.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def _unreadable(description, text):
    """The error for a frame that cannot be read: a CALL-shaped one is answered with its own id."""
    match = CALL_PREFIX.match(text)
    if match:
        return OcppError("FormatViolation", description, message_id=match.group(1))
    return OcppError("RpcFrameworkError", description, answer=not ANSWER_PREFIX.match(text))


def parse_frame(text):
    """Turn one WebSocket text frame into a Call, CallResult or CallError."""
    if not isinstance(text, str):
        raise OcppError("RpcFrameworkError", "Frame is not text")
    # Counting is C-fast; only frames with that many brackets pay for the exact scan.
    if (text.count("[") + text.count("{") > MAX_NESTING_DEPTH
            and nesting_depth(text) > MAX_NESTING_DEPTH):
        raise _unreadable(f"Frame is nested deeper than {MAX_NESTING_DEPTH} levels", text)
    try:
        frame = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise _unreadable(f"Frame is nested deeper than {MAX_NESTING_DEPTH} levels", text) from None
    except (ValueError, TypeError):
        raise OcppError("RpcFrameworkError", "Frame is not valid JSON") from None
    if "\\u" in text and not _encodable(frame):
        # An escaped lone surrogate ("\ud800") parses but can be neither stored nor echoed.
        raise _unreadable("Frame holds an unpaired UTF-16 surrogate escape", text)
    return _frame_of(frame)


def _encodable(frame):
    try:
        encode(frame).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _frame_of(frame):
    if not isinstance(frame, list) or len(frame) < 2:
        raise OcppError("RpcFrameworkError", "Frame is not an OCPP-J array")
    message_type, message_id = frame[0], frame[1]
    if not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH:
        raise OcppError("RpcFrameworkError", "Message id is not a string of 1 to 36 characters",
                        answer=message_type not in (CALLRESULT, CALLERROR))
    if message_type == CALL:
        if len(frame) != 4 or not isinstance(frame[2], str):
            raise OcppError(
                "RpcFrameworkError", "CALL must be [2, id, action, payload]", message_id=message_id
            )
        if not isinstance(frame[3], dict):
            raise OcppError("FormatViolation", "CALL payload must be a JSON object", message_id=message_id)
        return Call(message_id, frame[2], frame[3])
    if message_type == CALLRESULT:
        if len(frame) != 3 or not isinstance(frame[2], dict):
            raise OcppError("RpcFrameworkError", "CALLRESULT must be [3, id, payload]",
                            message_id=message_id, answer=False)
        return CallResult(message_id, frame[2])
    if message_type == CALLERROR:
        if len(frame) not in (4, 5) or not isinstance(frame[2], str):
            raise OcppError(
                "RpcFrameworkError", "CALLERROR must be [4, id, code, description, details]",
                message_id=message_id, answer=False,
            )
        details = frame[4] if len(frame) == 5 and isinstance(frame[4], dict) else {}
        description = frame[3] if isinstance(frame[3], str) else str(frame[3])
        return CallError(message_id, frame[2], description, details)
    raise OcppError("MessageTypeNotSupported", f"Message type {message_type!r} is not supported",
                    message_id=message_id)


def encode(frame):
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def call_frame(message_id, action, payload):
    return encode([CALL, message_id, action, payload])


def result_frame(message_id, payload):
    return encode([CALLRESULT, message_id, payload])


def error_frame(message_id, error_code, description="", details=None):
    return encode([CALLERROR, message_id, error_code, description[:255], details or {}])
