"""What simulated stations and the CSMS say to each other, whatever the version: the failures of a
call either way and OCPP timestamps."""

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
