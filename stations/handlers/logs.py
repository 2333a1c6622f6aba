"""Log messages from stations (LogStatusNotification in 2.0.1 and the 1.6 security extension,
1.6 DiagnosticsStatusNotification) and the answers that move a log request on."""
from django.dispatch import receiver

from csms.ocpp.framing import OCPP16, OCPP201
from csms.ocpp.router import router
from csms.ocpp.signals import command_finished

from ..actions import logs as log_actions

LOG_ACTIONS = {"GetLog", "GetDiagnostics"}


# An unknown requestId is still answered (and logged): the notification itself is valid.
@router.register(OCPP201, "LogStatusNotification")
@router.register(OCPP16, "LogStatusNotification")
def log_status_notification(session, payload):
    log_actions.apply_log_status(session.station_pk, payload.get("requestId"), payload["status"])
    return {}


# No requestId in 1.6: it speaks of the station's newest open GetDiagnostics request.
@router.register(OCPP16, "DiagnosticsStatusNotification")
def diagnostics_status_notification(session, payload):
    log_actions.apply_diagnostics_status(session.station_pk, payload["status"])
    return {}


@receiver(command_finished, dispatch_uid="stations.log_answer")
def apply_log_answer(sender, command, **kwargs):
    if command.action in LOG_ACTIONS:
        log_actions.settle_command(command)
