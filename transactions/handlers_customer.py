"""Customer information from the station's side (2.0.1): NotifyCustomerInformation parts, the
answers to CustomerInformation, and the transaction check display messages ask this app for."""
import logging

from django.dispatch import receiver

from csms.ocpp.framing import OCPP201
from csms.ocpp.router import router
from csms.ocpp.signals import command_finished
from stations.actions import display

from .actions import customer_data
from .models import Transaction

logger = logging.getLogger(__name__)


@router.register(OCPP201, "NotifyCustomerInformation")
def notify_customer_information(session, payload):
    # A requestId the CSMS never sent is still answered (logged), never an error.
    if not customer_data.record_customer_information(session.station_pk, payload):
        logger.warning("NotifyCustomerInformation from station %s for unknown requestId %s",
                       session.station_pk, payload["requestId"])
    return {}


@receiver(command_finished, dispatch_uid="transactions.customer_information_answer")
def apply_customer_information_answer(sender, command, **kwargs):
    if command.action == "CustomerInformation":
        customer_data.settle_request(command)


def station_has_transaction(station, transaction_id):
    return Transaction.objects.filter(station=station, transaction_id=transaction_id).exists()


# SetDisplayMessage with a transactionId is checked against this app's transactions.
display.register_transaction_check(station_has_transaction)
