"""The TxProfile a remote start carries (K05): validated like any profile (but with no transaction
yet), tracked pending, installed when the start is accepted, linked to the transaction it starts."""
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from csms.ocpp.framing import OCPP16
from transactions.actions import InvalidRequest
from transactions.models import RemoteStart

from ..models import ChargingProfile
from .profiles import InvalidProfile, create_profile

State = ChargingProfile.State
REMOTE_STARTS = ("RequestStartTransaction", "RemoteStartTransaction")
# The request field that carries the profile in each version's SetChargingProfile body.
PROFILE_KEY = {OCPP16: "csChargingProfiles"}


def prepare(station, evse_id, data):
    """(the request's chargingProfile, the pending row) for a TxProfile on `evse_id`."""
    from ..commands import profile_payload

    if evse_id is None:
        raise InvalidRequest("A charging profile needs the evse_id the transaction will run on.")
    try:
        row = create_profile(station, {**data, "purpose": ChargingProfile.Purpose.TX,
                                       "evse_id": evse_id}, transaction_required=False)
    except InvalidProfile as error:
        raise InvalidRequest(f"charging_profile: {error}")
    body = profile_payload(row, station.ocpp_version)
    return body[PROFILE_KEY.get(station.ocpp_version, "chargingProfile")], row


def sent(row, command):
    """The remote start's command carries the profile: its answer settles the row (receivers)."""
    row.command = command
    row.save(update_fields=["command", "updated_at"])


def link_transaction(transaction):
    """A transaction a remote start began: its TxProfile belongs to it from now on."""
    if transaction.remote_start_id is None:
        return 0
    command_id = RemoteStart.objects.filter(pk=transaction.remote_start_id).values_list(
        "command_id", flat=True).first()
    if command_id is None:
        return 0
    return ChargingProfile.objects.filter(
        command_id=command_id, purpose=ChargingProfile.Purpose.TX, transaction__isnull=True,
    ).update(transaction=transaction)


def expire_unstarted(now=None):
    """TxProfiles of accepted remote starts whose transaction never came: the station drops them
    once its connection timeout passes; after TRANSACTIONS_REMOTE_START_WINDOW they are expired."""
    since = (now or timezone.now()) - timedelta(seconds=settings.TRANSACTIONS_REMOTE_START_WINDOW)
    return ChargingProfile.objects.filter(
        purpose=ChargingProfile.Purpose.TX, transaction__isnull=True, state=State.INSTALLED,
        command__action__in=REMOTE_STARTS, command__finished_at__lt=since,
    ).update(state=State.EXPIRED)
