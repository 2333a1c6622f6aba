"""The restore after a boot does not give up silently: a report the station accepted but never
completes is timed out and every profile re-sent; a re-send that fails is retried with back-off
while the station stays connected, then the profile stays in error (a later boot tries again)."""
from django.test import override_settings

from csms.models import Command
from csms.ocpp import presence
from smartcharging.actions import restore
from smartcharging.models import ChargingProfile, ProfileReport
from tests.helpers import calls_before_marker, eventually
from tests.test_profile_restore import (
    RESTORE, as_reported, next_call_of, push, reboot, restored, state_of,
)


def profile(pk):
    return ChargingProfile.objects.get(pk=pk)


def restore_sends(identity, profile):
    return list(Command.objects.filter(
        identity=identity, source=RESTORE, action="SetChargingProfile",
        payload__chargingProfile__id=profile.charging_profile_id).order_by("id"))


def restore_sends_16(identity):
    return list(Command.objects.filter(identity=identity, source=RESTORE,
                                       action="SetChargingProfile").order_by("id"))


def test_report_never_completed_resends_every_profile(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    station_max = push(api, identity, "ChargingStationMaxProfile", 0)
    default = push(api, identity, "TxDefaultProfile", 1)
    station.close()

    # Accepted, then nothing: no ReportChargingProfiles ever comes.
    station = reboot(connect_station, identity, GetChargingProfiles={"status": "Accepted"})
    request = next_call_of(station, "GetChargingProfiles")
    sent = {next_call_of(station, "SetChargingProfile")["chargingProfile"]["id"]
            for _ in range(2)}
    assert sent == {station_max.charging_profile_id, default.charging_profile_id}
    report = ProfileReport.objects.get(pk=request["requestId"])
    assert report.status == "incomplete" and report.completed_at is not None
    eventually(lambda: state_of(station_max) == state_of(default) == "installed")
    assert profile(default.pk).restore_attempts == 1
    calls_before_marker(api, station)
    assert restored(identity) == sorted([("GetChargingProfiles", None),
                                         ("SetChargingProfile", station_max.charging_profile_id),
                                         ("SetChargingProfile", default.charging_profile_id)])


def test_partial_report_times_out_too(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    kept = push(api, identity, "ChargingStationMaxProfile", 0)
    lost = push(api, identity, "TxDefaultProfile", 1)
    station.close()

    station = reboot(connect_station, identity, GetChargingProfiles={"status": "Accepted"})
    request = next_call_of(station, "GetChargingProfiles")
    # One part promising more (tbc), then silence: what it named proves nothing about the rest.
    station.call("ReportChargingProfiles", {
        "requestId": request["requestId"], "chargingLimitSource": "CSO", "evseId": 0, "tbc": True,
        "chargingProfile": [as_reported(kept)]})
    sent = {next_call_of(station, "SetChargingProfile")["chargingProfile"]["id"]
            for _ in range(2)}
    assert sent == {kept.charging_profile_id, lost.charging_profile_id}
    report = ProfileReport.objects.get(pk=request["requestId"])
    assert (report.status, report.parts) == ("incomplete", 1)
    eventually(lambda: state_of(kept) == state_of(lost) == "installed")


def test_resend_timed_out_is_retried(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    lost = push(api, identity, "TxDefaultProfile", 1)
    station.close()

    # Re-sends are answered by hand below.
    station = reboot(connect_station, identity, GetChargingProfiles={"status": "NoProfiles"},
                     SetChargingProfile=None)
    message_id, action, first = station.next_call()
    while action != "SetChargingProfile":
        message_id, action, first = station.next_call()
    assert first["chargingProfile"]["id"] == lost.charging_profile_id
    # Not answered: the CSMS's call times out (OCPP_CALL_TIMEOUT) and the profile is in error...
    eventually(lambda: state_of(lost) == "error")
    assert [c.status for c in restore_sends(identity, lost)] == ["timeout"]
    # ...until the beat sends it again, the same profile, counted as attempt 2.
    message_id, action, again = station.next_call()
    while action != "SetChargingProfile":
        message_id, action, again = station.next_call()
    assert again == first
    station.reply(message_id, {"status": "Accepted"})
    eventually(lambda: state_of(lost) == "installed")
    assert profile(lost.pk).restore_attempts == 2
    assert [c.status for c in restore_sends(identity, lost)] == ["timeout", "accepted"]


def test_resend_refused_by_callerror_is_retried_16(connect_station, identity, api):
    station = connect_station(identity, "1.6")
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    lost = push(api, identity, "ChargingStationMaxProfile", 0)
    station.close()

    station = reboot(connect_station, identity, "1.6", SetChargingProfile=None)
    message_id, action, _ = station.next_call()
    while action != "SetChargingProfile":
        message_id, action, _ = station.next_call()
    station.reply_error(message_id, "InternalError", "busy")
    eventually(lambda: state_of(lost) == "error")
    message_id, action, payload = station.next_call()
    while action != "SetChargingProfile":
        message_id, action, payload = station.next_call()
    assert payload["csChargingProfiles"]["chargingProfileId"] == lost.charging_profile_id
    station.reply(message_id, {"status": "Accepted"})
    eventually(lambda: state_of(lost) == "installed")
    assert [c.status for c in restore_sends_16(identity)] == ["error", "accepted"]


def test_gives_up_after_the_attempts_and_the_next_boot_tries_again(connect_station, identity,
                                                                    api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    lost = push(api, identity, "TxDefaultProfile", 1)
    station.close()
    # Every re-send answered with a CALLERROR; the test server allows 5 sends in all (default).
    station = reboot(connect_station, identity, GetChargingProfiles={"status": "NoProfiles"},
                     SetChargingProfile=None)
    errors = 0
    while errors < 5:
        message_id, action, _ = station.next_call()
        if action == "SetChargingProfile":
            station.reply_error(message_id, "InternalError", "busy")
            errors += 1
    eventually(lambda: state_of(lost) == "error" and len(restore_sends(identity, lost)) == 5
               and restore_sends(identity, lost)[-1].status == "error")
    assert profile(lost.pk).restore_attempts == 5
    # No sixth: the profile stays in error, listed as such by the API.
    calls_before_marker(api, station)
    assert len(restore_sends(identity, lost)) == 5
    assert api.get(f"/charging-profiles/{lost.pk}/").json()["state"] == "error"
    station.close()

    # The next boot starts over: asked, not reported, re-sent as attempt 1, installed.
    station = reboot(connect_station, identity, GetChargingProfiles={"status": "NoProfiles"})
    eventually(lambda: state_of(lost) == "installed")
    assert profile(lost.pk).restore_attempts == 1


def test_not_retried_once_the_station_is_gone(connect_station, identity, api):
    station = connect_station(identity)
    station.answers["SetChargingProfile"] = {"status": "Accepted"}
    lost = push(api, identity, "TxDefaultProfile", 1)
    station.close()
    station = reboot(connect_station, identity, GetChargingProfiles={"status": "NoProfiles"},
                     SetChargingProfile=None)
    message_id, action, _ = station.next_call()
    while action != "SetChargingProfile":
        message_id, action, _ = station.next_call()
    station.reply_error(message_id, "InternalError", "busy")
    station.close()
    eventually(lambda: state_of(lost) == "error" and not _connected(identity))
    # Back-off over, but the station is gone: nothing is due for it (its next boot starts over).
    with override_settings(SMARTCHARGING_RESTORE_RETRY_SECONDS=0):
        assert identity not in {station.identity for station in restore.due_retries()}
    assert profile(lost.pk).restore_attempts == 1


def _connected(identity):
    return presence.lookup(identity) is not None
