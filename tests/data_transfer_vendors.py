"""DataTransfer vendor handlers for the tests (loaded through OCPP_DATA_TRANSFER_MODULES)."""
import asyncio

from stations.datatransfer import vendor_handler

VENDOR_ID = "org.csms.test"


@vendor_handler(VENDOR_ID, "Echo")
def echo(session, message_id, data):
    return {"status": "Accepted", "data": data}


@vendor_handler(VENDOR_ID, "Pause")
async def pause(session, message_id, data):
    # Holds the call open for `data` seconds without blocking anything else.
    await asyncio.sleep(float(data))
    return {"status": "Accepted"}
