"""Remote starts: creation and the station's answer."""
from ..models import RemoteStart, Transaction


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


