"""A station's answer to a site's fallback is applied once it is known, and again by the round that
waited for it; an accept from before the station's last boot never marks the fallback held."""
import uuid
from datetime import timedelta

from django.utils import timezone

from csms.models import Command
from smartcharging.actions.site_profiles import apply_answer
from smartcharging.actions.sites import member_booted
from smartcharging.models import ChargingProfile, Site, SiteAllocation, SiteMember
from stations.models import Station


def fallback_evse(sent_at):
    station = Station.objects.create(identity=f"CS-{uuid.uuid4().hex[:10]}",
                                     last_boot_at=sent_at - timedelta(hours=1))
    # Disabled: no round runs behind the test's back.
    site = Site.objects.create(name=station.identity, limit_unit="W", enabled=False,
                               limit_periods=[{"startPeriod": 0, "limit": 22080}])
    command = Command.objects.create(identity=station.identity, ocpp_version="2.0.1",
                                     action="SetChargingProfile", status=Command.Status.ACCEPTED,
                                     sent_at=sent_at, finished_at=sent_at)
    profile = ChargingProfile.objects.create(
        station=station, charging_profile_id=1, stack_level=0, kind="Absolute", command=command,
        purpose=ChargingProfile.Purpose.TX_DEFAULT, state=ChargingProfile.State.INSTALLED,
        schedules=[{"chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11040.0}]}])
    SiteMember.objects.create(site=site, station=station)
    row = SiteAllocation.objects.create(site=site, station=station, evse_id=1, maximum=22080.0,
                                        held=22080.0, fallback_profile=profile,
                                        fallback_stale=False)
    return station, row, command


def test_an_accept_counts_the_fallback_held_on_every_idle_evse():
    station, row, command = fallback_evse(timezone.now())
    apply_answer(command)
    row.refresh_from_db()
    assert (row.fallback_held, row.fallback_stale, row.held) == (11040.0, False, 11040.0)
    assert row.state == SiteAllocation.State.HELD


def test_an_accept_from_before_a_reboot_does_not_undo_the_reboot():
    station, row, command = fallback_evse(timezone.now() - timedelta(seconds=2))
    apply_answer(command)
    Station.objects.filter(pk=station.pk).update(last_boot_at=timezone.now())
    member_booted(station.pk)
    # The round that sent it applies the answer again after its wait: the reboot still stands.
    apply_answer(command)
    row.refresh_from_db()
    assert (row.fallback_held, row.fallback_stale) == (None, True)
    assert (row.held, row.state) == (22080.0, SiteAllocation.State.UNANSWERED)
