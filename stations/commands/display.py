"""CSMS -> station display-message operations (2.0.1 only): SetDisplayMessage,
GetDisplayMessages and ClearDisplayMessage. The answers are applied in handlers/display.py."""
from django.db import transaction as db_transaction

from csms.ocpp import outbound
from csms.ocpp.framing import OCPP201

from ..actions import display as actions
from ..models import DisplayMessage, DisplayMessageReport
from . import _version

InvalidDisplayMessage = actions.InvalidDisplayMessage


def _require_201(station, action):
    version = _version(station)
    if version != OCPP201:
        raise InvalidDisplayMessage([f"OCPP {version} has no {action}: display messages are "
                                     "OCPP 2.0.1 only"])
    return version


def set_display_message(station, data, source=""):
    """Validate `data` (model field names) and send it: (message, command). Raises
    InvalidDisplayMessage with every reason before anything is recorded or sent."""
    version = _require_201(station, "SetDisplayMessage")
    with db_transaction.atomic():
        message = actions.create_message(station, data)
        payload = {"message": actions.message_info(message)}
        try:
            outbound.check_request(version, "SetDisplayMessage", payload)
        except outbound.InvalidCommand as error:
            raise InvalidDisplayMessage(error.errors)  # rolls the row back
        command = outbound.send_call(station.identity, version, "SetDisplayMessage", payload,
                                     source=source)
        actions.attach_command(message, command)
    command.refresh_from_db()  # on the embedded default the answer may already be in
    message.refresh_from_db()
    return message, command


def clear_display_message(message, source=""):
    """ClearDisplayMessage of one message the station shows (or may still show)."""
    if message.status not in DisplayMessage.LIVE_STATUSES:
        raise InvalidDisplayMessage([f"message {message.message_id} is {message.status}; the "
                                     "station does not show it"])
    version = _require_201(message.station, "ClearDisplayMessage")
    with db_transaction.atomic():
        command = outbound.send_call(message.station.identity, version, "ClearDisplayMessage",
                                     {"id": message.message_id}, source=source)
        actions.attach_command(message, command, field="clear_command")
    command.refresh_from_db()
    message.refresh_from_db()
    return command


def get_display_messages(station, ids=None, priority=None, state=None, source=""):
    """GetDisplayMessages: the station answers in NotifyDisplayMessages parts carrying the
    report's pk as requestId; (report, command)."""
    version = _require_201(station, "GetDisplayMessages")
    criteria = {key: value for key, value in (("id", list(ids or [])), ("priority", priority),
                                              ("state", state)) if value}
    with db_transaction.atomic():
        report = DisplayMessageReport.objects.create(station=station, criteria=criteria)
        command = outbound.send_call(station.identity, version, "GetDisplayMessages",
                                     {"requestId": report.pk, **criteria}, source=source)
        report.command = command
        report.save(update_fields=["command"])
    command.refresh_from_db()
    report.refresh_from_db()
    return report, command
