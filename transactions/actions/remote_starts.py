"""Remote starts: creation, the charging profile one may carry, and the station's answer."""
from django.conf import settings

from ..models import RemoteStart, Transaction
from .authorization import ID_TAG_TYPE, find_token, record_unknown_token
from .common import InvalidRequest

# Checks, records and writes a remote start's charging profile (K05). Smart charging registers it
# at startup: it imports this app, so this app cannot import it.
_profile_tracker = None


def register_profile_tracker(tracker):
    """tracker.prepare(station, evse_id, data) -> (the request's chargingProfile, tracked row),
    raising InvalidRequest; tracker.sent(tracked row, command)."""
    global _profile_tracker
    _profile_tracker = tracker


def remote_start_profile(station, evse_id, data):
    """The chargingProfile for the request and the row tracking it (InvalidRequest when it cannot
    be sent)."""
    if _profile_tracker is None:
        raise InvalidRequest("This CSMS sends no charging profiles.")
    return _profile_tracker.prepare(station, evse_id, data)


def remote_start_profile_sent(tracked, command):
    _profile_tracker.sent(tracked, command)


def token_for_remote_start(value, token_type=None):
    """The token to start with: a known one, or (unknown-token policy accept) one recorded the
    way Authorize records it, since the station would accept that card when presented."""
    token = find_token(value, token_type)
    if token is not None:
        return token
    if settings.TRANSACTIONS_UNKNOWN_ID_TOKEN_POLICY != "accept":
        raise InvalidRequest(f"No id token {value!r}.")
    if not value or len(value) > 36:
        raise InvalidRequest("An id token has 1 to 36 characters.")
    token, _ = record_unknown_token(value, token_type or ID_TAG_TYPE)
    return token


def create_remote_start(station, value, token_type="", evse_id=None):
    return RemoteStart.objects.create(station=station, id_token_value=value,
                                      id_token_type=token_type or "", evse_id=evse_id)


def settle_remote_start(remote_start):
    command = remote_start.command
    if command is not None and not command.is_finished:
        return remote_start
    response = (command.response or {}) if command else {}
    remote_start.status = response.get("status") or (command.status if command else "")
    remote_start.settled = True
    update = ["status", "settled"]
    # 2.0.1: a transaction already running on the EVSE is named in the answer.
    if response.get("transactionId") and remote_start.transaction_id is None:
        running = Transaction.objects.filter(station_id=remote_start.station_id,
                                             transaction_id=response["transactionId"]).first()
        if running:
            remote_start.transaction = running
            update.append("transaction")
    remote_start.save(update_fields=update)
    return remote_start


