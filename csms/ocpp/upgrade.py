"""What the consumer checks of a WebSocket upgrade before admitting it: identity, subprotocol,
HTTP Basic credentials; and the answer to an upgrade to a path nothing serves."""
import base64
import binascii

from . import identity as identity_rules
from .framing import SUBPROTOCOLS

MAX_IDENTITY_LENGTH = identity_rules.MAX_IDENTITY_LENGTH
DENIAL_EXTENSION = "websocket.http.response"


async def unknown_websocket_path(scope, receive, send):
    """An upgrade to a path nothing serves: HTTP 404 saying where stations connect (without this,
    the router's error would be a 500)."""
    await receive()  # websocket.connect
    if DENIAL_EXTENSION not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    await send({"type": "websocket.http.response.start", "status": 404,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "websocket.http.response.body",
                "body": b"Not found: stations connect to /ocpp/<identity>"})


def valid_identity(identity):
    # One rule for the socket and the API (csms/ocpp/identity.py).
    return identity_rules.valid_identity(identity)


def parse_basic_auth(headers):
    """(username, password) from an Authorization: Basic header, or None."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, encoded = value.partition(b" ")
            if scheme.lower() != b"basic":
                return None
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            username, separator, password = decoded.partition(":")
            return (username, password) if separator else None
    return None


def choose_subprotocol(offered):
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return None

