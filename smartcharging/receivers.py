"""Applies stations' answers to charging-profile commands as they arrive."""
from django.dispatch import receiver

from csms.ocpp.signals import command_finished
from stations.signals import station_booted
from stations.standing import asked_at_boot, may_have
from transactions.signals import meter_values_stored, transaction_changed

from . import actions
from .actions import remote_start_profiles, restore
from .models import ChargingProfile, SiteMember
from .signals import ev_charging_needs_received

# A remote start's answer settles the TxProfile it carried, as SetChargingProfile's would (K05).
REMOTE_STARTS = {"RequestStartTransaction", "RemoteStartTransaction"}


@receiver(command_finished, dispatch_uid="smartcharging.apply_station_answer")
def apply_station_answer(sender, command, **kwargs):
    if command.action == "SetChargingProfile":
        actions.settle_set_profile(command)
        actions.apply_site_answer(command)
    elif command.action in REMOTE_STARTS:
        actions.settle_set_profile(command)
    elif command.action == "ClearChargingProfile":
        actions.settle_clear(command)
    elif command.action == "GetChargingProfiles":
        actions.settle_report_request(command)


@asked_at_boot("profiles_to_restore")
def _profiles_to_restore(station_pk):
    # What restore.restorable() starts from, before its finer checks.
    return ChargingProfile.objects.filter(
        station_id=station_pk, reported=False,
        state__in=[ChargingProfile.State.INSTALLED, ChargingProfile.State.ERROR])


@receiver(station_booted, dispatch_uid="smartcharging.restore_profiles")
def restore_profiles(sender, station, registration_status, **kwargs):
    if may_have(station, "profiles_to_restore"):
        restore.station_booted(station, registration_status)


# --- central load management: what makes a site's round due ---------------------------------

@receiver(transaction_changed, dispatch_uid="smartcharging.site_transaction_changed")
def reallocate_on_transaction(sender, transaction, **kwargs):
    actions.station_changed(transaction.station_id)


@receiver(ev_charging_needs_received, dispatch_uid="smartcharging.site_ev_needs")
def reallocate_on_ev_needs(sender, **kwargs):
    actions.station_changed(sender.station_id)


@receiver(meter_values_stored, dispatch_uid="smartcharging.site_power_readings")
def reallocate_on_power(sender, transaction, rows, **kwargs):
    actions.power_readings(transaction, rows)


@asked_at_boot("site_membership")
def _site_membership(station_pk):
    return SiteMember.objects.filter(station_id=station_pk)


@receiver(station_booted, dispatch_uid="smartcharging.site_member_booted")
def refit_member_after_boot(sender, station, **kwargs):
    if may_have(station, "site_membership"):
        actions.member_booted(station.pk)


@receiver(transaction_changed, dispatch_uid="smartcharging.link_remote_start_profile")
def link_remote_start_profile(sender, transaction, **kwargs):
    if transaction.remote_start_id is not None and transaction.state == "Active":
        remote_start_profiles.link_transaction(transaction)
