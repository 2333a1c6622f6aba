"""SecurityEventNotification (2.0.1 A04; the 1.6 security extension): the station's security log,
and the answers to a password rotation (A01)."""
from django.dispatch import receiver

from csms.ocpp.framing import OCPP16, OCPP201
from csms.ocpp.router import router
from csms.ocpp.signals import command_finished

from ..actions import password_rotation
from ..actions import security as security_actions


@router.register(OCPP201, "SecurityEventNotification")
@router.register(OCPP16, "SecurityEventNotification")
def security_event_notification(session, payload):
    security_actions.record_security_event(session.station_pk, payload["type"],
                                           payload["timestamp"], payload.get("techInfo", ""))
    return {}


@receiver(command_finished, dispatch_uid="stations.password_rotation_answer")
def apply_password_rotation_answer(sender, command, **kwargs):
    if command.action in password_rotation.ROTATION_ACTIONS.values():
        password_rotation.settle_command(command)
