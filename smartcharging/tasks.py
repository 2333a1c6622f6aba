"""Celery tasks of smart charging: thin wrappers around commands."""
from celery import shared_task

from stations.models import Station

from . import actions, commands
from .actions import ev_needs, remote_start_profiles, restore
from .models import ChargingProfile


@shared_task(ignore_result=True)
def set_charging_profile(station_pk, data, source="task:set-charging-profile"):
    profile, command = commands.set_charging_profile(Station.objects.get(pk=station_pk), data,
                                                     source=source)
    return profile.pk


@shared_task(ignore_result=True)
def clear_charging_profile(profile_pk, source="task:clear-charging-profile"):
    return commands.clear_profile(ChargingProfile.objects.get(pk=profile_pk), source=source).pk


@shared_task(ignore_result=True)
def get_charging_profiles(station_pk, evse_id=None, source="task:get-charging-profiles"):
    report, command = commands.get_charging_profiles(Station.objects.get(pk=station_pk), evse_id,
                                                     source=source)
    return report.pk


@shared_task(ignore_result=True)
def sweep_profiles():
    remote_start_profiles.expire_unstarted()
    return actions.sweep_profiles()


@shared_task(ignore_result=True)
def restore_profiles(station_pk):
    """After a boot: GetChargingProfiles (2.0.1) or re-send the live profiles (1.6)."""
    station = Station.objects.filter(pk=station_pk).first()
    if station is not None and station.ocpp_version:
        restore.restore(station)


@shared_task(ignore_result=True)
def resend_profiles(station_pk, profile_pks):
    """Re-send profiles a rebooted station no longer holds (source reboot-restore)."""
    station = Station.objects.filter(pk=station_pk).first()
    if station is not None:
        restore.resend(station, ChargingProfile.objects.filter(
            station=station, pk__in=profile_pks).exclude(state=ChargingProfile.State.PENDING))


@shared_task(ignore_result=True)
def restore_pass():
    """Reports that never completed end incomplete; failed re-sends are retried (the beat)."""
    return restore.restore_pass()


@shared_task(ignore_result=True)
def reallocate_site_task(site_pk):
    """The debounced reallocation round of a site (actions.request_reallocation queues it)."""
    summary = actions.run_due_round(site_pk)
    return None if summary is None else summary["round"]


@shared_task(ignore_result=True)
def site_safety_pass():
    """Rounds for sites whose limit changes, whose last round is old, or whose round was lost."""
    return actions.safety_pass()


@shared_task(ignore_result=True)
def fit_ev_charging_needs(needs_pk):
    """A TxProfile fitted to an EV's charging needs, for a station in no site."""
    fitted = ev_needs.fit(needs_pk)
    return None if fitted is None else fitted[0].pk
