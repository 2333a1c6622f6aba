"""Keep-alive: the server pings idle stations and never cuts them off; compression is negotiated."""
import base64
import os
import socket
import struct
import time

import pytest

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
    pings = 0
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        opcode, payload = read_frame(sock)
        assert opcode != CLOSE, "an idle station must not be cut off"
        if opcode == PING:
            pings += 1
            send_masked(sock, PONG, payload)
    assert pings >= 2
    sock.close()


def test_permessage_deflate_is_negotiated(connect_station, identity):
    station = connect_station(identity)
    assert "permessage-deflate" in station.socket.response.headers.get("Sec-WebSocket-Extensions", "")
    assert "currentTime" in station.call("Heartbeat", {})
