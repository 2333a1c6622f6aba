"""An example DataTransfer vendor module shipped with the product (enable it with
OCPP_DATA_TRANSFER_MODULES=stations.datatransfer_example); a model for writing your own.

vendorId "org.csms.example":
- messageId "Ping": answered Accepted with the request's data echoed back (a reachability check);
- messageId "Clock": the station sends its own time (ISO 8601, or nothing) and gets the CSMS's
  time back (Accepted); a time that cannot be read is Rejected. A clock off by more than
  CLOCK_DRIFT_WARNING is logged, since timestamps of transactions and readings depend on it.
Any other messageId of this vendor is answered UnknownMessageId by the registry.
"""
import logging
from datetime import timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .datatransfer import vendor_handler

logger = logging.getLogger(__name__)
VENDOR_ID = "org.csms.example"
CLOCK_DRIFT_WARNING = timedelta(seconds=30)


def _now_iso():
    return timezone.now().isoformat(timespec="seconds").replace("+00:00", "Z")


# `async def`: these touch no database, so they answer on the event loop without a thread hop.
@vendor_handler(VENDOR_ID, "Ping")
async def ping(session, message_id, data):
    answer = {"status": "Accepted"}
    if data is not None:
        answer["data"] = data  # the same type comes back: valid for 1.6 (string) and 2.0.1
    return answer


@vendor_handler(VENDOR_ID, "Clock")
async def clock(session, message_id, data):
    if data not in (None, ""):
        try:
            station_time = parse_datetime(data) if isinstance(data, str) else None
        except ValueError:  # well-formed but impossible (month 13)
            station_time = None
        if station_time is None or station_time.tzinfo is None:
            return {"status": "Rejected", "data": "expected an ISO 8601 time with its offset"}
        drift = station_time - timezone.now()
        if abs(drift) > CLOCK_DRIFT_WARNING:
            logger.warning("%s: station clock off by %.0f s", session.identity,
                           drift.total_seconds())
    return {"status": "Accepted", "data": _now_iso()}
