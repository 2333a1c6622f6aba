"""Celery tasks of smart charging: thin wrappers around commands."""
from celery import shared_task

from stations.models import Station

from . import actions, commands
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
    return actions.sweep_profiles()
