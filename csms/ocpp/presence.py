"""Which process holds which station's socket; a row is trusted until the sweep drops its process.

A process silent for OCPP_SERVER_DEAD_SECONDS is dropped with its rows by the sweep (a late beat
alone disowns nothing); if it was only stalled it puts its rows back at its next beat.
"""
import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from csms import metrics
from csms.models import ServerProcess, StationPresence

from . import lifecycle
from .sessiondb import database_started_at

logger = logging.getLogger(__name__)

SERVER_ID = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
_server_pk = None  # this process's ServerProcess row, once its first beat created it
_beat_lock = threading.Lock()
REGISTER_ATTEMPTS = 3


def alive_since():
    """Beats older than this mean a dead process (to the sweep)."""
    return timezone.now() - timedelta(seconds=settings.OCPP_SERVER_DEAD_SECONDS)


# The sockets this process holds (identity -> session), so that a process whose row a sweep
# dropped during a stall can put its stations back when it beats again.
_held = {}


def hold(session):
    _held[session.identity] = session


def held(identity):
    """The session whose socket this process holds for `identity`, or None."""
    return _held.get(identity)


def held_versions():
    """The OCPP version of each socket this process holds."""
    return [session.ocpp_version for session in list(_held.values())]


def release(session):
    if _held.get(session.identity) is session:
        del _held[session.identity]


def beat():
    """Record that this process is alive (creates its row on the first beat)."""
    # The beat thread and a first connection's register() may both beat at start-up: one at a
    # time, or both would create the row and one would fail on its unique id.
    with _beat_lock:
        try:
            _beat()
        except DatabaseError:
            metrics.database_error("beat")
            raise


def _beat():
    global _server_pk
    now = timezone.now()
    updated = ServerProcess.objects.filter(server_id=SERVER_ID).update(last_beat_at=now)
    if not updated:
        # First beat, or another process's sweep dropped this row (and its presences) after a
        # stall longer than three beats: come back, with every socket still held here.
        _server_pk = ServerProcess.objects.create(
            server_id=SERVER_ID, hostname=socket.gethostname(), pid=os.getpid(),
            started_at=now, last_beat_at=now,
        ).pk
        _restore_presences(now)
    elif _server_pk is None:
        _server_pk = ServerProcess.objects.values_list("pk", flat=True).get(server_id=SERVER_ID)


def _restore_presences(now):
    sessions = list(_held.values())
    if not sessions:
        return
    # A station that reconnected elsewhere meanwhile keeps its new row (ignore_conflicts).
    StationPresence.objects.bulk_create([
        StationPresence(identity=session.identity, server_id=_server_pk,
                        channel_name=session.channel_name, connection_id=session.connection_id,
                        ocpp_version=session.ocpp_version, connected_at=now)
        for session in sessions
    ], ignore_conflicts=True, batch_size=500)
    restored = set(StationPresence.objects.filter(server_id=_server_pk)
                   .values_list("connection_id", flat=True))
    # The sweep that dropped this process marked its stations disconnected: they are not.
    directory = lifecycle.directory()
    for session in sessions:
        if session.connection_id in restored:
            try:
                directory.connected(session)
            except Exception:
                logger.exception("could not mark %s connected again", session.identity)


def register(session):
    """Make this socket the live one for its identity; return the previous holder
    (channel_name, connection_id) for the caller to close, or None."""
    if _server_pk is None:
        beat()  # the runtime's beat loop keeps it fresh from here on
    for attempt in range(REGISTER_ATTEMPTS):
        try:
            previous = _claim_presence(session)
            break
        except IntegrityError:
            # A concurrent first connect of the same identity inserted the row first, or another
            # process's sweep dropped this process's row during a stall: beat, then claim again.
            if attempt == REGISTER_ATTEMPTS - 1:
                raise
            beat()
    # Told to close even if its process beats late: a stalled holder is still a holder.
    if previous:
        return previous.channel_name, previous.connection_id
    return None


def _claim_presence(session):
    if connection.vendor == "postgresql":
        return _claim_presence_in_one_statement(session)
    with transaction.atomic():
        previous = (
            StationPresence.objects.select_for_update()
            .select_related("server")
            .filter(identity=session.identity)
            .first()
        )
        fields = {
            "server_id": _server_pk,
            "channel_name": session.channel_name,
            "connection_id": session.connection_id,
            "ocpp_version": session.ocpp_version,
            "connected_at": timezone.now(),
        }
        # The row is locked (or absent) already: write it directly. Two first connects racing
        # on an absent row end in an IntegrityError for one; register() retries it.
        if previous is None:
            StationPresence.objects.create(identity=session.identity, **fields)
        else:
            StationPresence.objects.filter(pk=previous.pk).update(**fields)
    return previous


class PreviousHolder:
    def __init__(self, channel_name, connection_id):
        self.channel_name, self.connection_id = channel_name, connection_id


def _claim_presence_in_one_statement(session):
    """_claim_presence on PostgreSQL: an UPDATE that locks the row and returns what it held, in
    one autocommitted statement (a reconnect's usual case; 4 statements and a transaction
    through the ORM, a reconnect storm's largest single cost after the boot). An absent row is
    inserted; a first connect racing another of the same identity inserts nothing and raises
    IntegrityError, like the ORM path, for register() to claim again."""
    table = connection.ops.quote_name(StationPresence._meta.db_table)
    values = [_server_pk, session.channel_name, session.connection_id, session.ocpp_version,
              timezone.now()]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS claimed SET server_id = %s, channel_name = %s,"
            f" connection_id = %s, ocpp_version = %s, connected_at = %s"
            f" FROM (SELECT id, channel_name, connection_id FROM {table}"
            f"       WHERE identity = %s FOR UPDATE) AS previous"
            f" WHERE claimed.id = previous.id"
            f" RETURNING previous.channel_name, previous.connection_id",
            values + [session.identity])
        row = cursor.fetchone()
        if row is not None:
            return PreviousHolder(*row)
        cursor.execute(
            f"INSERT INTO {table} (identity, server_id, channel_name, connection_id,"
            f" ocpp_version, connected_at) VALUES (%s, %s, %s, %s, %s, %s)"
            f" ON CONFLICT (identity) DO NOTHING RETURNING id",
            [session.identity] + values)
        if cursor.fetchone() is None:
            raise IntegrityError(f"the presence of {session.identity} was claimed meanwhile")
    return None


def unregister(identity, connection_id):
    """Remove the presence only if it is still this socket's; True if it was."""
    deleted, _ = StationPresence.objects.filter(
        identity=identity, connection_id=connection_id
    ).delete()
    return bool(deleted)


def unregister_many(sockets):
    """unregister() for many (identity, connection_id) at once: one DELETE ... RETURNING.
    Returns the identities whose presence was still their socket's (now removed). A connection
    id is one socket's, so matching both lists matches exactly the pairs given."""
    if not sockets:
        return set()
    table = StationPresence._meta.db_table
    identities = [identity for identity, _ in sockets]
    connection_ids = [connection_id for _, connection_id in sockets]
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE identity IN ({', '.join(['%s'] * len(sockets))})"
            f" AND connection_id IN ({', '.join(['%s'] * len(sockets))}) RETURNING identity",
            identities + connection_ids)
        return {row[0] for row in cursor.fetchall()}


def lookup(identity):
    """The presence of a station, or None when no process holds its socket.

    A late beat is not death: a stalled process still holds the socket and reads its nudges
    when it resumes; a dead one is dropped by the sweep, which then settles its commands."""
    return StationPresence.objects.filter(identity=identity).first()


def live_identities(identities=None):
    queryset = StationPresence.objects.all()
    if identities is not None:
        queryset = queryset.filter(identity__in=identities)
    return set(queryset.values_list("identity", flat=True))


def forget_dead_servers():
    """Drop processes (and their presences) that stopped beating; return their identities.
    The process running this sweep is alive, however late its own beat."""
    cutoff = alive_since()
    started = database_started_at()
    if started is not None and started > cutoff:
        return []  # the database restarted within the window: no one could beat before it
    dead = ServerProcess.objects.filter(last_beat_at__lt=cutoff).exclude(server_id=SERVER_ID)
    identities = list(
        StationPresence.objects.filter(server__in=dead).values_list("identity", flat=True)
    )
    dead.delete()
    return identities
