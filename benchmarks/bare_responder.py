"""The ceiling: a bare WebSocket server (no Django) answering each OCPP CALL with a canned result
of the right shape, so the simulator runs against it unchanged."""

import argparse
import asyncio
import datetime
import itertools
import json

from websockets.asyncio.server import serve

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


async def respond(websocket):
    async for text in websocket:
        frame = json.loads(text)
        if frame[0] == 2:
            await websocket.send(json.dumps([3, frame[1], answer(frame[2], frame[3])]))


async def main(port):
    async with serve(
        respond, "127.0.0.1", port, subprotocols=["ocpp2.0.1", "ocpp1.6"], ping_interval=None, max_queue=None
    ):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
