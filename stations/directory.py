"""The stations app's part in every OCPP session: admission, connection state and the boot gate."""
import logging

from django.db.models import OuterRef

from csms.models import Command
from csms.ocpp.framing import OcppError
from csms.ocpp.lifecycle import Admission, StationDirectory

from . import actions, login, security_profiles, standing
from .actions import profile_upgrade
from .models import Station
from .signals import station_connected, station_disconnected

logger = logging.getLogger(__name__)

# B02: a Pending station may answer what the CSMS asked of it (reports after GetBaseReport,
# GetReport, GetMonitoringReport) besides booting again; everything else waits for Accepted.
ALLOWED_WHILE_PENDING = {"BootNotification", "NotifyReport", "NotifyMonitoringReport"}


@standing.asked_at_connect("commands_queued")
def _commands_queued(station_pk):
    return Command.objects.filter(identity=OuterRef("identity"), status=Command.Status.QUEUED)


class StationsDirectory(StationDirectory):
    def admit(self, identity, ocpp_version, basic_auth, remote_address, transport=None):
        station = Station.objects.filter(identity=identity).first()
        if station is None:
            try:
                station = actions.register_unknown_station(identity)
            except actions.RegistrationRefused:
                return Admission(False, 404, "Unknown charging station")
        refusal = security_profiles.refusal(station, identity, transport, remote_address)
        if refusal is not None:
            return refusal
        # A05: a connection over the transport of an upgrade's new profile completes it.
        upgrade = profile_upgrade.upgrade_proven(station, identity, transport)
        to_mutual_tls = upgrade is not None and upgrade.to_profile == security_profiles.MUTUAL_TLS
        if (station.password_hash and security_profiles.checks_password(station)
                and not to_mutual_tls):  # the verified certificate is its credential now
            # Security profile 1/2: username is the identity (BRIEF §1); throttled, never logged.
            refusal = login.authenticate(station, identity, basic_auth, remote_address)
            if refusal is not None:
                return refusal
        if upgrade is not None:
            profile_upgrade.complete(upgrade)
        return Admission(True, station_pk=station.pk,
                         registration_status=station.registration_status)

    def connected(self, session):
        actions.mark_connected(session.station_pk, session.ocpp_version, session.remote_address)
        if not session.data.get("connected_announced"):  # a restored session is no reconnect
            session.data["connected_announced"] = True
            # Receivers skip their own query when the app's question was answered no.
            answers = standing.answers_at_connect(session.station_pk)
            # A failing receiver must not cost the station its connection.
            for receiver, result in station_connected.send_robust(
                    sender=Station, station_pk=session.station_pk, identity=session.identity,
                    ocpp_version=session.ocpp_version, standing=answers):
                if isinstance(result, Exception):
                    logger.error("%s failed for %s", receiver, session.identity, exc_info=result)
            # Read after the presence was claimed: a command queued later is nudged to this
            # socket (and the sweep nudges any left queued), so a no here loses nothing.
            return standing.may_have(answers, "commands_queued")
        return None

    def disconnected(self, session):
        actions.mark_disconnected(session.station_pk)
        _announce_disconnected([(session.station_pk, session.identity)])

    def disconnected_many(self, sessions):
        actions.mark_many_disconnected([session.station_pk for session in sessions])
        _announce_disconnected([(session.station_pk, session.identity) for session in sessions])

    def lost(self, identities):
        if actions.mark_lost(identities):
            _announce_disconnected(Station.objects.filter(identity__in=identities, online=False)
                                   .values_list("pk", "identity"))

    def seen(self, session):
        actions.touch(session.station_pk)

    def check_call(self, session, action):
        # BRIEF §2: until its boot is Accepted a station may send nothing but BootNotification
        # (and, while Pending, the reports the CSMS asked for).
        if session.accepted or action == "BootNotification":
            return None
        if session.registration_status == Station.RegistrationStatus.PENDING and action in ALLOWED_WHILE_PENDING:
            return None
        return OcppError(
            "SecurityError", f"{action} refused: the station's BootNotification has not been Accepted"
        )

    def may_send(self, session, action):
        if session.registration_status == Station.RegistrationStatus.REJECTED:
            return "The station's boot was Rejected: the CSMS sends it nothing"
        return None


def _announce_disconnected(stations):
    # A failing receiver must not keep the closed session from being recorded.
    for station_pk, identity in stations:
        for receiver, result in station_disconnected.send_robust(
                sender=Station, station_pk=station_pk, identity=identity):
            if isinstance(result, Exception):
                logger.error("%s failed for %s", receiver, identity, exc_info=result)
