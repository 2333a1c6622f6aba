"""Firmware messages from stations (FirmwareStatusNotification both versions, 1.6
SignedFirmwareStatusNotification, 2.0.1 PublishFirmwareStatusNotification) and the answers and
boots that move a firmware update on."""
from django.dispatch import receiver

from csms.ocpp.framing import OCPP16, OCPP201
from csms.ocpp.router import router
from csms.ocpp.signals import command_finished

from ..actions import firmware as firmware_actions
from ..models import FirmwareUpdate
from ..signals import station_booted
from ..standing import asked_at_boot, may_have

FIRMWARE_ACTIONS = {"UpdateFirmware", "SignedUpdateFirmware", "PublishFirmware",
                    "UnpublishFirmware"}


# 2.0.1 and the 1.6 security extension carry the requestId of the UpdateFirmware it is about.
@router.register(OCPP201, "FirmwareStatusNotification")
@router.register(OCPP16, "SignedFirmwareStatusNotification")
def firmware_status_notification(session, payload):
    firmware_actions.apply_status_notification(session.station_pk, payload["status"],
                                               payload.get("requestId"))
    return {}


# Plain 1.6 has no requestId: the notification is about the station's newest open update.
@router.register(OCPP16, "FirmwareStatusNotification")
def firmware_status_notification_16(session, payload):
    firmware_actions.apply_status_notification(session.station_pk, payload["status"])
    return {}


@router.register(OCPP201, "PublishFirmwareStatusNotification")
def publish_firmware_status_notification(session, payload):
    firmware_actions.apply_publish_notification(session.station_pk, payload["status"],
                                                payload.get("requestId"),
                                                payload.get("location") or ())
    return {}


@receiver(command_finished, dispatch_uid="stations.firmware_answer")
def apply_firmware_answer(sender, command, **kwargs):
    if command.action in FIRMWARE_ACTIONS:
        firmware_actions.settle_command(command)


@asked_at_boot("firmware_awaiting_boot")
def _firmware_awaiting_boot(station_pk):
    return FirmwareUpdate.objects.filter(station_id=station_pk,
                                         status__in=firmware_actions.AWAITING_BOOT)


@receiver(station_booted, dispatch_uid="stations.firmware_version_at_boot")
def confirm_firmware_version(sender, station, **kwargs):
    if may_have(station, "firmware_awaiting_boot"):
        firmware_actions.confirm_version_at_boot(station)
