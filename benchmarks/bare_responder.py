"""The ceiling: a bare WebSocket server (no Django) answering each OCPP CALL with a canned result
of the right shape, so the same client runs against it unchanged.

Made so that it is not what caps the ceiling: `--processes N` (default 2, one per core here) starts
N processes serving one port, each binding it with SO_REUSEPORT so the kernel spreads new
connections among them; each frames WebSocket messages itself over an asyncio Protocol
(`lean_websocket.py`: upgrade, unmask, answer), several times cheaper per message than a
general-purpose server. `--framing websockets` uses the `websockets` server instead (no
compression), as the earlier ceiling did."""

import argparse
import asyncio
import datetime
import itertools
import json
import multiprocessing
import os
import signal
import sys
from pathlib import Path

from websockets.asyncio.server import serve

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import raise_open_files_limit
from benchmarks.lean_websocket import (
    OPCODE_CLOSE,
    OPCODE_PING,
    OPCODE_PONG,
    OPCODE_TEXT,
    accept_key,
    read_frames,
    server_frame,
    take_http_head,
)

SUBPROTOCOLS = ("ocpp2.0.1", "ocpp1.6")

transaction_ids = itertools.count(1)


def answer(action, payload):
    now = datetime.datetime.now(datetime.UTC).isoformat()
    if action == "BootNotification":
        return {"currentTime": now, "interval": 300, "status": "Accepted"}
    if action == "Heartbeat":
        return {"currentTime": now}
    if action == "Authorize":
        return (
            {"idTokenInfo": {"status": "Accepted"}} if "idToken" in payload else {"idTagInfo": {"status": "Accepted"}}
        )
    if action == "StartTransaction":
        return {"transactionId": next(transaction_ids), "idTagInfo": {"status": "Accepted"}}
    if action == "TransactionEvent" and "idToken" in payload:
        return {"idTokenInfo": {"status": "Accepted"}}
    return {}


def result_frame(text):
    frame = json.loads(text)
    if frame[0] != 2:
        return None
    return json.dumps([3, frame[1], answer(frame[2], frame[3])]).encode()


class LeanResponder(asyncio.Protocol):
    """One station's socket: the HTTP upgrade, then one CALLRESULT per CALL."""

    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.upgraded = False

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        if not self.upgraded and not self.upgrade():
            return
        for _, opcode, payload in read_frames(self.buffer):
            if opcode == OPCODE_TEXT:
                result = result_frame(payload)
                if result is not None:
                    self.transport.write(server_frame(OPCODE_TEXT, result))
            elif opcode == OPCODE_PING:
                self.transport.write(server_frame(OPCODE_PONG, payload))
            elif opcode == OPCODE_CLOSE:
                self.transport.write(server_frame(OPCODE_CLOSE, payload[:2]))
                self.transport.close()
                return

    def upgrade(self):
        head = take_http_head(self.buffer)
        if head is None:
            return False
        _, headers = head
        offered = [name.strip() for name in headers.get("sec-websocket-protocol", "").split(",")]
        chosen = next((name for name in offered if name in SUBPROTOCOLS), None)
        key = headers.get("sec-websocket-key")
        if chosen is None or key is None:
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            self.transport.close()
            return False
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept_key(key.encode()) + b"\r\nSec-WebSocket-Protocol: "
            + chosen.encode() + b"\r\n\r\n"
        )
        self.upgraded = True
        return True


async def respond(websocket):
    async for text in websocket:
        result = result_frame(text)
        if result is not None:
            await websocket.send(result.decode())


async def serve_forever(port, framing):
    if framing == "lean":
        server = await asyncio.get_running_loop().create_server(
            LeanResponder, "127.0.0.1", port, reuse_port=True, backlog=4096
        )
        async with server:
            await server.serve_forever()
    async with serve(
        respond, "127.0.0.1", port, subprotocols=list(SUBPROTOCOLS), ping_interval=None, max_queue=None,
        compression=None, reuse_port=True, backlog=4096,
    ):
        await asyncio.get_running_loop().create_future()


def count_transactions(number):
    global transaction_ids
    # 1.6 transaction ids stay unique across processes: each process counts in its own stride.
    transaction_ids = itertools.count(number + 1, 1_000)


def use_uvloop():
    """uvloop when installed (the `bench` extra): its transports cost a fraction of asyncio's."""
    try:
        import uvloop
    except ImportError:
        return False
    uvloop.install()
    return True


def serve_process(port, number, framing):
    count_transactions(number)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    use_uvloop()
    asyncio.run(serve_forever(port, framing))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--framing", choices=["lean", "websockets"], default="lean")
    options = parser.parse_args()
    raise_open_files_limit()  # thousands of stations; the forked processes inherit it
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=serve_process, args=(options.port, number, options.framing), daemon=True)
                for number in range(1, options.processes)]
    for child in children:
        child.start()

    def stop(*_):
        for child in children:
            child.terminate()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    count_transactions(0)
    use_uvloop()
    try:
        asyncio.run(serve_forever(options.port, options.framing))
    finally:
        stop()


if __name__ == "__main__":
    main()
