"""What every transactions action shares: the OCPP versions, the user-error type, time
parsing and the unique-key retry."""
from datetime import timezone as dt_timezone

from django.db import IntegrityError, transaction as db_transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

OCPP16, OCPP201 = "1.6", "2.0.1"
ATTEMPTS = 3


class InvalidRequest(ValueError):
    """A user asked for something that cannot be done; the message says why."""


def parse_time(value):
    if not value:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt_timezone.utc)
    return parsed.astimezone(dt_timezone.utc)


def iso(value):
    return value.astimezone(dt_timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _retrying(operation):
    """Run `operation` in a transaction; a unique-key race with a concurrent writer retries it."""
    for attempt in range(ATTEMPTS):
        try:
            with db_transaction.atomic():
                return operation()
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise

