"""Applies stations' answers to charging-profile commands as they arrive."""
from django.dispatch import receiver

from csms.ocpp.signals import command_finished
from stations.signals import station_booted

from . import actions
from .actions import restore

# A remote start's answer settles the TxProfile it carried, as SetChargingProfile's would (K05).
REMOTE_STARTS = {"RequestStartTransaction", "RemoteStartTransaction"}


@receiver(command_finished, dispatch_uid="smartcharging.apply_station_answer")
def apply_station_answer(sender, command, **kwargs):
    if command.action == "SetChargingProfile":
        actions.settle_set_profile(command)
    elif command.action in REMOTE_STARTS:
        actions.settle_set_profile(command)
    elif command.action == "ClearChargingProfile":
        actions.settle_clear(command)
    elif command.action == "GetChargingProfiles":
        actions.settle_report_request(command)


@receiver(station_booted, dispatch_uid="smartcharging.restore_profiles")
def restore_profiles(sender, station, registration_status, **kwargs):
    restore.station_booted(station, registration_status)
