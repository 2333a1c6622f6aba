"""What simulated stations and the CSMS say to each other, whatever the version: the failures of a
call either way and OCPP timestamps."""

import asyncio
import logging
from datetime import UTC, datetime


class CallFailed(Exception):
    """The CSMS answered one of our CALLs with a CALLERROR."""

    def __init__(self, code, description=""):
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class NotConnected(Exception):
    """No socket (or it closed before the answer came)."""


class CommandError(Exception):
    """Answer the CSMS's CALL with a CALLERROR of this code."""

    def __init__(self, code, description=""):
        super().__init__(description or code)
        self.code = code
        self.description = description


def iso_ms(moment):
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso():
    return iso_ms(datetime.now(UTC))


async def notify_when_online(station, action, payload, attempts=20):
    """Send a status notification, waiting out short disconnections (as a station queues them);
    a CSMS that refuses it is logged, not retried."""
    for _ in range(attempts):
        await station.online.wait()
        try:
            await station.call(action, payload)
            return
        except NotConnected:
            await asyncio.sleep(0.2)
        except CallFailed as error:
            logging.getLogger(__name__).info("%s: %s %s refused: %s", station.identity, action,
                                             payload.get("status"), error)
            return
