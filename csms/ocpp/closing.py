"""What is left to record when a station's socket closes, retried while the database is away."""
import asyncio
import logging
from dataclasses import dataclass

from . import ingest, lifecycle, outbound, presence
from .session import StationSession
from .sessiondb import database_sync_to_async

logger = logging.getLogger(__name__)

# Later tries (s apart) to settle a closed session the database refused; then the sweep does it.
CLOSE_RETRY_DELAYS = (1, 2, 5, 10, 20, 30, 60, 60, 120, 300)
_retries = set()  # running retries, referenced so they are not collected


@dataclass
class ClosedSession:
    """What is left to record of a closed socket; each step is done once, so a retry after a
    database error picks up where the last try stopped."""
    session: StationSession
    command_id: int | None = None
    was_live: bool | None = None
    offline_marked: bool = False

    def settle(self):
        session = self.session
        if self.command_id is not None:
            outbound.finish(self.command_id, outbound.Status.ERROR, error_code="ConnectionClosed",
                            error_description="The connection closed before the station answered")
            self.command_id = None
        if self.was_live is None:
            self.was_live = presence.unregister(session.identity, session.connection_id)
        if self.was_live:
            if not self.offline_marked:
                outbound.mark_offline(session.identity)
                self.offline_marked = True
            lifecycle.directory().disconnected(session)
            self.was_live = False


    @staticmethod
    def write_together(closings):
        """Closed sockets recorded together by the group commit (`csms.ocpp.ingest`): when a
        reconnect storm closes thousands at once, a few set-based statements per batch instead
        of several statements each, which queued every reconnecting station's admission behind
        them. Only closings with no call outstanding come here, all steps still to do; nothing
        on the instances changes, so after a failure `settle()` can still do each step."""
        sessions = [closed.session for closed in closings]
        live = presence.unregister_many([(session.identity, session.connection_id)
                                         for session in sessions])
        outbound.mark_many_offline(live)
        lifecycle.directory().disconnected_many(
            [session for session in sessions if session.identity in live])
        return [None] * len(closings)


async def settle(closed):
    """Record a closed socket now: with the others closing at the same moment (group commit)
    unless a call of it is outstanding. Raises what the database raised."""
    if closed.command_id is None and closed.was_live is None:
        await ingest.submit(closed)
    else:
        await database_sync_to_async(closed.settle)()


async def settle_later(closed):
    for delay in CLOSE_RETRY_DELAYS:
        await asyncio.sleep(delay)
        try:
            await database_sync_to_async(closed.settle)()
        except Exception:
            continue
        logger.warning("Closed session of %s recorded after the database came back",
                       closed.session.identity)
        return
    logger.error("Gave up recording the closed session of %s; the command sweep settles it",
                 closed.session.identity)


def settle_in_background(closed):
    if closed is None:
        return
    task = asyncio.ensure_future(settle_later(closed))
    _retries.add(task)
    task.add_done_callback(_retries.discard)
