"""Display messages from the station's side (2.0.1): NotifyDisplayMessages parts, and the
answers to Set/Get/ClearDisplayMessage applied as they arrive (command_finished)."""
import logging

from django.dispatch import receiver

from csms.ocpp.framing import OCPP201
from csms.ocpp.router import router
from csms.ocpp.signals import command_finished

from ..actions import display as actions

logger = logging.getLogger(__name__)


@router.register(OCPP201, "NotifyDisplayMessages")
def notify_display_messages(session, payload):
    # A requestId the CSMS never sent is still answered (a station may report after a restart).
    if not actions.record_display_messages(session.station_pk, payload):
        logger.warning("NotifyDisplayMessages from station %s for unknown requestId %s",
                       session.station_pk, payload["requestId"])
    return {}


@receiver(command_finished, dispatch_uid="stations.display_message_answers")
def apply_display_answer(sender, command, **kwargs):
    if command.action == "SetDisplayMessage":
        actions.settle_set_message(command)
    elif command.action == "ClearDisplayMessage":
        actions.settle_clear_message(command)
    elif command.action == "GetDisplayMessages":
        actions.settle_report_request(command)
