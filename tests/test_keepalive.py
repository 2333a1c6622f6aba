"""Keep-alive: the server pings idle stations and never cuts them off; compression is negotiated."""
import base64
import json
import os
import socket
import struct

import pytest
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.sync.client import connect

from tests.conftest import ServerProcess

PING, PONG, CLOSE = 0x9, 0xA, 0x8


@pytest.fixture(scope="module")
def fast_ping_server(csms):
    server = ServerProcess("server-fast-ping", {"OCPP_PING_INTERVAL": "1"}).start()
    yield server
    server.stop()


def raw_upgrade(port, identity):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((
        f"GET /ocpp/{identity} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: ocpp2.0.1\r\n\r\n"
    ).encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(4096)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def read_frame(sock):
    first, second = sock.recv(2, socket.MSG_WAITALL)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", sock.recv(2, socket.MSG_WAITALL))[0]
    payload = sock.recv(length, socket.MSG_WAITALL) if length else b""
    return first & 0x0F, payload


def send_masked(sock, opcode, payload):
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)


def test_idle_station_is_pinged_and_kept(fast_ping_server, identity):
    sock = raw_upgrade(fast_ping_server.port, identity)
    sock.settimeout(30)  # pings are due every second or two: a silent server fails, a slow one not
    pings = 0
    while pings < 2:
        opcode, payload = read_frame(sock)
        assert opcode != CLOSE, "an idle station must not be cut off"
        if opcode == PING:
            pings += 1
            send_masked(sock, PONG, payload)
    # Still open after the pings it answered: a ping round trip of its own is answered.
    send_masked(sock, PING, b"still-there")
    while (frame := read_frame(sock)) != (PONG, b"still-there"):
        assert frame[0] != CLOSE, "an idle station must not be cut off"
        if frame[0] == PING:
            send_masked(sock, PONG, frame[1])
    sock.close()


def test_permessage_deflate_is_negotiated(connect_station, identity):
    station = connect_station(identity)
    assert "permessage-deflate" in station.socket.response.headers.get("Sec-WebSocket-Extensions", "")
    assert "currentTime" in station.call("Heartbeat", {})


def test_deflate_keeps_no_compression_state_between_messages(csms, identity):
    # Each message is compressed on its own both ways (the server's side needs no say-so, the
    # station's was offered), so an idle station holds no zlib state on the server; every
    # message must still decompress.
    offer = ClientPerMessageDeflateFactory(client_no_context_takeover=True,
                                           client_max_window_bits=True)
    with connect(f"{csms.ws_url}/ocpp/{identity}", subprotocols=["ocpp2.0.1"],
                 extensions=[offer], compression=None, open_timeout=10) as socket:
        extensions = socket.response.headers["Sec-WebSocket-Extensions"]
        assert "client_no_context_takeover" in extensions
        def call(number, action, payload):
            socket.send(json.dumps([2, f"m{number}", action, payload]))
            return json.loads(socket.recv(timeout=10))

        # A long frame each way first: refused by the schema, its echo comes back in the error.
        too_long = {"reason": "PowerUp", "chargingStation": {"model": "M" * 2000, "vendorName": "V"}}
        assert call(0, "BootNotification", too_long)[2] == "PropertyConstraintViolation"
        boot = {"reason": "PowerUp", "chargingStation": {"model": "M" * 20, "vendorName": "V"}}
        assert call(1, "BootNotification", boot)[2]["status"] == "Accepted"
        for number in range(2, 5):
            assert "currentTime" in call(number, "Heartbeat", {})[2]
