"""Which process holds which station's socket, trusted only while that process keeps beating.

A presence row names the channel of the consumer holding the socket. A process that dies leaves
its rows behind; they are ignored once its beat is older than three intervals, so a stale entry
never captures a command.
"""
import os
import socket
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from csms.models import ServerProcess, StationPresence

SERVER_ID = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
_server_pk = None  # this process's ServerProcess row, once its first beat created it


def alive_since():
    return timezone.now() - timedelta(seconds=3 * settings.OCPP_SERVER_BEAT_SECONDS)


def beat():
    """Record that this process is alive (creates its row on the first beat)."""
    global _server_pk
    now = timezone.now()
    updated = ServerProcess.objects.filter(server_id=SERVER_ID).update(last_beat_at=now)
    if not updated:
        # First beat, or the sweep of another process dropped this row after a long stall.
        _server_pk = ServerProcess.objects.create(
            server_id=SERVER_ID, hostname=socket.gethostname(), pid=os.getpid(),
            started_at=now, last_beat_at=now,
        ).pk
    elif _server_pk is None:
        _server_pk = ServerProcess.objects.values_list("pk", flat=True).get(server_id=SERVER_ID)


def register(session):
    """Make this socket the live one for its identity; return the previous live holder
    (channel_name, connection_id) for the caller to close, or None."""
    if _server_pk is None:
        beat()  # the runtime's beat loop keeps it fresh from here on
    try:
        previous = _claim_presence(session)
    except IntegrityError:
        beat()  # another process's sweep dropped this process's row during a stall
        previous = _claim_presence(session)
    if previous and previous.server.last_beat_at >= alive_since():
        return previous.channel_name, previous.connection_id
    return None


def _claim_presence(session):
    with transaction.atomic():
        previous = (
            StationPresence.objects.select_for_update()
            .select_related("server")
            .filter(identity=session.identity)
            .first()
        )
        StationPresence.objects.update_or_create(
            identity=session.identity,
            defaults={
                "server_id": _server_pk,
                "channel_name": session.channel_name,
                "connection_id": session.connection_id,
                "ocpp_version": session.ocpp_version,
                "connected_at": timezone.now(),
            },
        )
    return previous


def unregister(identity, connection_id):
    """Remove the presence only if it is still this socket's; True if it was."""
    deleted, _ = StationPresence.objects.filter(
        identity=identity, connection_id=connection_id
    ).delete()
    return bool(deleted)


def lookup(identity):
    """The live presence of a station, or None when it is not connected to a live process."""
    return (
        StationPresence.objects.select_related("server")
        .filter(identity=identity, server__last_beat_at__gte=alive_since())
        .first()
    )


def live_identities(identities=None):
    queryset = StationPresence.objects.filter(server__last_beat_at__gte=alive_since())
    if identities is not None:
        queryset = queryset.filter(identity__in=identities)
    return set(queryset.values_list("identity", flat=True))


def forget_dead_servers():
    """Drop processes (and their presences) that stopped beating; return their identities."""
    dead = ServerProcess.objects.filter(last_beat_at__lt=alive_since())
    identities = list(
        StationPresence.objects.filter(server__in=dead).values_list("identity", flat=True)
    )
    dead.delete()
    return identities
