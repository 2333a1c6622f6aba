"""Hooks through which a domain app takes part in a session's life without the core importing it.

The stations app installs its `StationDirectory` in AppConfig.ready(); the default admits all.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Admission:
    """The verdict on a WebSocket upgrade: admitted, or refused with an HTTP status."""

    admitted: bool
    http_status: int = 200
    reason: str = ""
    station_pk: int | None = None
    registration_status: str = ""
    # Seconds for the Retry-After of a refusal (429: too many failed logins).
    retry_after: int = 0


class StationDirectory:
    """Default directory: admits every identity, gates nothing. Methods run in a worker thread
    (they may use the ORM) except `check_call`, which must be quick and pure."""

    def admit(self, identity, ocpp_version, basic_auth, remote_address, transport=None):
        """basic_auth is (username, password) or None; transport a csms.ocpp.transport.Transport
        (TLS and client certificate, from a trusted terminator only). Returns an Admission."""
        return Admission(True)

    def connected(self, session):
        """Record the socket's station connected. Return False only when the station surely has
        no queued command (the consumer then skips its first look at the queue); anything else
        and the consumer looks."""
        return None

    def disconnected(self, session):
        pass

    def disconnected_many(self, sessions):
        """disconnected() for sockets that closed at once (a reconnect storm); subclasses may
        record them together."""
        for session in sessions:
            self.disconnected(session)

    def lost(self, identities):
        """The sweep dropped these stations' presences with their dead server process: mark
        them disconnected, unless a socket holds them again meanwhile."""

    def seen(self, session):
        """Called at most every OCPP_LAST_SEEN_WRITE_INTERVAL while messages arrive."""

    def check_call(self, session, action):
        """Return an OcppError to refuse an incoming CALL before its handler runs, else None."""
        return None

    def may_send(self, session, action):
        """Return a reason to refuse sending a CALL to this station now, else None."""
        return None


_directory = StationDirectory()


def install_directory(directory):
    global _directory
    _directory = directory


def directory():
    return _directory
