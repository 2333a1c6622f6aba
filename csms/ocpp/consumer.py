"""The WebSocket consumer holding one station's OCPP session.

Incoming CALLs are handled here, in the process holding the socket. Outgoing CALLs are claimed
from the database queue when a nudge arrives; the consumer never awaits a station's answer inside
a handler, since Channels runs one handler at a time per consumer and the answer could never be read.
Nothing a station sends and no outage of the database or channel layer escapes it: a failure is
logged and answered, and a closing socket always releases its station (retried if need be).
"""
import asyncio
import logging
import time
import uuid
from dataclasses import dataclass

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.db import Error as DatabaseError

from csms import logformat, metrics

from . import layerwatch, lifecycle, messagelog, outbound, presence, runtime, schemas, transport
from .admission import ADMISSION_TIMEOUT, gate as admission_gate
from .closing import ClosedSession, settle as settle_closed, settle_in_background
from .framing import (
    CALL, CALLERROR, CALLRESULT, SUBPROTOCOLS, UNKNOWN_MESSAGE_ID, Call, CallError, CallResult,
    OcppError, call_frame, error_frame, parse_frame, result_frame,
)
from .router import router
from .session import StationSession
from .sessiondb import database_sync_to_async
from .upgrade import (  # noqa: F401  (unknown_websocket_path: csms/asgi.py routes to it)
    DENIAL_EXTENSION, choose_subprotocol, parse_basic_auth, unknown_websocket_path, valid_identity,
)

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30  # told to a station refused with 503 while the database is down
LAST_SEEN_RETRY_SECONDS = 5.0  # a failed last-seen write is tried again this much later
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455: the server cannot serve the socket now
CLOSE_SILENT = 1008  # RFC 6455 policy violation: no first CALL within OCPP_FIRST_MESSAGE_TIMEOUT
# An upgrade whose admission (the database) takes longer is answered 503, before the upgrade
# timeout (settings.OCPP_UPGRADE_TIMEOUT, 18 s) would refuse it for the time spent queued.
ADMIT_TIMEOUT = 15.0


def is_database_error(error):
    return isinstance(error, DatabaseError) or type(error).__module__.startswith(("psycopg", "sqlite3"))


@dataclass
class OutstandingCall:
    message_id: str
    command_id: int
    action: str
    sent_at: float
    timer: asyncio.TimerHandle


class OcppConsumer(AsyncWebsocketConsumer):
    session: StationSession | None = None
    released = False
    socket_accepted = False
    unanswered = None  # message id of the CALL being handled until it is answered
    first_frame_pending = False  # admission holds a place again while the first frame is handled
    silence_timer = None

    async def __call__(self, scope, receive, send):
        # channels' AsyncConsumer.__call__, but channel-layer receives wait out an outage instead
        # of raising, and whatever still escapes closes the socket and releases the station.
        self.scope = scope
        self.base_send = send
        self.outstanding = None
        self.closing = False
        self.outbound_lock = asyncio.Lock()
        self.background = set()
        self.last_seen_written = 0.0
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        try:
            await await_many_dispatch([receive, self.receive_from_layer], self.dispatch)
        except StopConsumer:
            pass
        except (KeyboardInterrupt, SystemExit, asyncio.CancelledError):
            raise
        except BaseException:
            logger.exception("The session of %s failed; closing it", self.identity_for_log)
            await self.abandon()
        finally:
            if not self.released:  # cancelled (daphne gave up on us): record it in the background
                self.closing = True
                self.leave_admission()
                self.settle_in_background(self.take_closed_session())

    @property
    def identity_for_log(self):
        return self.session.identity if self.session else self.scope.get("path", "?")

    async def receive_from_layer(self):
        return await layerwatch.receive(self.channel_layer, self.channel_name)

    async def abandon(self):
        """Close the socket after an unexpected failure and release its station."""
        try:
            if self.socket_accepted:
                await self.close(code=1011)
            else:
                await self.deny(lifecycle.Admission(False, 500, "The CSMS failed to admit the station"))
        except Exception:
            logger.exception("Closing the socket of %s failed", self.identity_for_log)
        await self.disconnect(1011)

    async def connect(self):
        identity = self.scope["url_route"]["kwargs"]["identity"]
        subprotocol = choose_subprotocol(self.scope.get("subprotocols", []))
        if subprotocol is None:
            # BRIEF §1: no common subprotocol refuses the upgrade.
            await self.close()
            return
        if not valid_identity(identity):
            # Refused before anything is looked up or registered (csms/ocpp/identity.py).
            metrics.upgrade(400)
            await self.deny(lifecycle.Admission(False, 400, "Invalid charging station identity"))
            return
        ocpp_version = SUBPROTOCOLS[subprotocol]
        logformat.station_identity.set(identity)  # this task's log lines (and its threads') name it
        self.enter_admission()
        client = self.scope.get("client") or ("", 0)
        remote_address = client[0] if client else ""
        directory = lifecycle.directory()
        try:
            admission = await asyncio.wait_for(database_sync_to_async(directory.admit)(
                identity, ocpp_version, parse_basic_auth(self.scope.get("headers", [])),
                remote_address, transport=transport.describe(self.scope),
            ), ADMIT_TIMEOUT)
        except Exception as error:
            if not (is_database_error(error) or isinstance(error, asyncio.TimeoutError)):
                raise
            metrics.database_error("admission")
            logger.warning("Refused %s with 503: the database is unavailable (%s)", identity,
                           error or "no answer within %g s" % ADMIT_TIMEOUT)
            admission = lifecycle.Admission(
                False, 503, "The CSMS database is unavailable; retry later")
        if not admission.admitted:
            metrics.upgrade(admission.http_status)
            self.leave_admission()
            await self.deny(admission)
            return
        self.session = StationSession(
            identity=identity, ocpp_version=ocpp_version, connection_id=str(uuid.uuid4()),
            channel_name=self.channel_name, remote_address=remote_address,
            station_pk=admission.station_pk, registration_status=admission.registration_status,
        )
        runtime.ensure_started()
        metrics.upgrade("accepted")
        await self.accept(subprotocol)
        self.socket_accepted = True
        try:
            previous, may_have_commands = await database_sync_to_async(self.open_session)(directory)
        except Exception as error:
            if not is_database_error(error):
                raise
            metrics.database_error("session_open")
            logger.warning("Closed %s (%d): its connection could not be recorded (%s)",
                           identity, CLOSE_TRY_AGAIN_LATER, error)
            self.closing = True
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        if previous and previous[1] != self.session.connection_id:
            # One identity, one live socket: the newest wins, wherever the old one lives.
            await layerwatch.send(self.channel_layer, previous[0],
                                  {"type": "ocpp.replaced", "connection_id": previous[1]})
        self.last_seen_written = time.monotonic()
        silence = self.silence_allowed()
        if silence:
            self.silence_timer = asyncio.get_running_loop().call_later(silence, self.on_silence)
        try:
            if may_have_commands:
                await self.pump()
        except Exception:
            # Queued commands wait for the next nudge or answer; the socket is fine.
            logger.exception("Sending queued commands to %s failed", identity)
        # A socket that says nothing costs nothing: it gives its admission place back until
        # its first frame arrives (a silent one never starves the listening port).
        self.leave_admission()
        self.first_frame_pending = True

    def silence_allowed(self):
        """Seconds this socket may stay silent after its upgrade; None: no limit."""
        timeout = settings.OCPP_FIRST_MESSAGE_TIMEOUT
        if not timeout or self.session.accepted:
            return None  # an Accepted station may reconnect without booting and wait to speak
        if self.session.registration_status:
            # Pending / Rejected: it owes its next BootNotification after the retry interval.
            return timeout + settings.OCPP_BOOT_RETRY_INTERVAL
        return timeout  # never booted: a real station boots at once

    def on_silence(self):
        self.silence_timer = None
        if self.closing:
            return
        reason = f"No CALL within {self.silence_allowed():g} s of the upgrade"
        logger.info("Closing %s (%d): %s", self.session.identity, CLOSE_SILENT, reason)
        self.closing = True
        task = asyncio.ensure_future(self.close(code=CLOSE_SILENT, reason=reason))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def enter_admission(self):
        if getattr(self, "admission_timer", None) is not None:
            return
        admission_gate.enter()
        self.admission_timer = asyncio.get_running_loop().call_later(
            ADMISSION_TIMEOUT, self.leave_admission)

    def leave_admission(self):
        timer, self.admission_timer = getattr(self, "admission_timer", None), None
        if timer is not None:
            timer.cancel()
            admission_gate.leave()

    async def dispatch(self, message):
        # channels closes stale database connections (a hop to its database thread) before every
        # event; session queries run on our own pool, which looks after its connections, so
        # that hop is pure cost on every frame.
        try:
            handler = getattr(self, get_handler_name(message), None)
        except ValueError:
            handler = None
        if handler is None:
            logger.warning("%s: ignored a message of type %r", self.identity_for_log,
                           message.get("type"))
            return
        try:
            await handler(message)
        except StopConsumer:
            raise
        except Exception:
            if message["type"] in ("websocket.connect", "websocket.disconnect"):
                raise  # __call__ closes the socket and releases the station
            # One failed event (a frame, a nudge) must not end the session.
            logger.exception("%s: handling %s failed", self.identity_for_log, message["type"])

    def open_session(self, directory):
        """Register the socket and mark the station connected: one trip to the database thread.
        Returns the previous holder, and whether the station may have queued commands (it has
        none in nearly every connect: commands for an absent station end `offline` at once)."""
        previous = presence.register(self.session)
        presence.hold(self.session)
        may_have_commands = directory.connected(self.session) is not False
        return previous, may_have_commands

    async def deny(self, admission):
        if DENIAL_EXTENSION in self.scope.get("extensions", {}):
            headers = [(b"content-type", b"text/plain")]
            if admission.http_status == 401:
                headers.append((b"www-authenticate", b'Basic realm="OCPP"'))
            if admission.http_status == 503:
                headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
            elif admission.retry_after:
                headers.append((b"retry-after", str(admission.retry_after).encode()))
            await self.base_send({
                "type": "websocket.http.response.start",
                "status": admission.http_status,
                "headers": headers,
            })
            await self.base_send({
                "type": "websocket.http.response.body", "body": admission.reason.encode(),
            })
        else:
            await self.close()

    async def websocket_disconnect(self, message):
        # channels' version also hops to a thread to close old connections: ours are the pool's.
        try:
            await self.disconnect(message.get("code"))
        except Exception:
            logger.exception("Closing the session of %s failed", self.identity_for_log)
        raise StopConsumer()

    async def disconnect(self, code):
        if self.released:
            return
        self.closing = True
        self.leave_admission()
        async with self.outbound_lock:
            closed = self.take_closed_session()
        if closed is None:
            return
        try:
            await settle_closed(closed)
        except Exception as error:
            if is_database_error(error):
                metrics.database_error("session_close")
            logger.warning("Recording the closed session of %s failed (%s); retrying",
                           closed.session.identity, error)
            self.settle_in_background(closed)

    def take_closed_session(self):
        """Mark the session released and return what is left to record of it (or None)."""
        self.released = True
        if self.silence_timer is not None:
            self.silence_timer.cancel()
        for task in self.background:
            task.cancel()
        session = self.session
        if session is None:
            return None
        closed = ClosedSession(session)
        if self.outstanding is not None:
            self.outstanding.timer.cancel()
            closed.command_id = self.outstanding.command_id
            self.outstanding = None
        presence.release(session)
        return closed

    settle_in_background = staticmethod(settle_in_background)

    # --- frames in --------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.session is None or self.closing:
            return  # a frame that raced our own close
        if self.first_frame_pending:
            self.first_frame_pending = False
            self.enter_admission()  # the first call (a boot, normally) is the costly one
        try:
            await self.handle_frame(text_data, bytes_data)
        except Exception:
            logger.exception("Handling a frame from %s failed", self.identity_for_log)
            if self.unanswered is not None:
                try:
                    await self.send_error(self.unanswered, OcppError(
                        "InternalError", "The CSMS failed to handle this call"))
                except Exception:
                    logger.exception("Answering %s failed", self.identity_for_log)
        finally:
            self.unanswered = None
            self.leave_admission()
        if time.monotonic() - self.last_seen_written >= settings.OCPP_LAST_SEEN_WRITE_INTERVAL:
            await self.write_last_seen()

    async def write_last_seen(self):
        self.last_seen_written = time.monotonic()
        try:
            await database_sync_to_async(lifecycle.directory().seen)(self.session)
        except Exception as error:
            if is_database_error(error):
                metrics.database_error("last_seen")
            logger.warning("Last-seen write for %s failed (%s); retrying later",
                           self.session.identity, error)
            self.last_seen_written = (time.monotonic() - settings.OCPP_LAST_SEEN_WRITE_INTERVAL
                                      + LAST_SEEN_RETRY_SECONDS)

    async def handle_frame(self, text_data, bytes_data):
        session = self.session
        if text_data is None:
            text_data = bytes_data.decode("utf-8", errors="replace") if bytes_data else ""
        try:
            frame = parse_frame(text_data)
        except OcppError as error:
            messagelog.record(session.identity, "in", text_data, message_id=error.message_id or "",
                              outcome=error.kind, connection_id=session.connection_id)
            if error.answer:
                await self.send_error(error.message_id or UNKNOWN_MESSAGE_ID, error)
            else:
                logger.warning("%s sent a broken answer: %s", session.identity, error.description)
            return
        if isinstance(frame, Call):
            if self.silence_timer is not None:
                self.silence_timer.cancel()
                self.silence_timer = None
            self.unanswered = frame.message_id
            messagelog.record(session.identity, "in", text_data, CALL, frame.message_id,
                              frame.action, connection_id=session.connection_id)
            await self.handle_call(frame)
        else:
            await self.handle_answer(frame, text_data)

    async def handle_call(self, call):
        session = self.session
        started = time.monotonic()
        was_accepted = session.accepted
        try:
            result = await self.run_handler(call)
        except OcppError as error:
            await self.send_error(call.message_id, error, call.action, started)
            return
        except Exception as error:
            if is_database_error(error):
                metrics.database_error("handler")
            logger.exception("%s handler failed for %s", call.action, session.identity)
            await self.send_error(
                call.message_id, OcppError("InternalError", "The CSMS failed to handle this call"),
                call.action, started,
            )
            return
        text = result_frame(call.message_id, result)
        await self.send(text_data=text)
        self.unanswered = None
        self.leave_admission()
        messagelog.record(session.identity, "out", text, CALLRESULT, call.message_id, call.action,
                          "ok", _ms_since(started), session.connection_id)
        if session.accepted and not was_accepted:
            await self.pump()

    async def run_handler(self, call):
        session = self.session
        version = session.ocpp_version
        if call.action not in schemas.actions(version):
            raise OcppError("NotImplemented", f"Unknown action {call.action!r}")
        # A malformed call gets its constraint error even when nothing here would handle it.
        schemas.validate(version, call.action, schemas.REQUEST, call.payload)
        registered = router.lookup(version, call.action)
        if registered is None:
            raise OcppError("NotSupported", f"{call.action} is not supported by this CSMS")
        refusal = lifecycle.directory().check_call(session, call.action)
        if refusal is not None:
            raise refusal
        handler, is_async = registered
        if is_async:
            result = await handler(session, call.payload)
        else:
            result = await database_sync_to_async(handler)(session, call.payload)
        try:
            schemas.validate(version, call.action, schemas.RESPONSE, result)
        except OcppError as error:
            logger.error("%s answer for %s failed its schema: %s", call.action, session.identity,
                         error.description)
            raise OcppError("InternalError", "The CSMS built an invalid answer") from error
        return result

    async def send_error(self, message_id, error, action="", started=None):
        session = self.session
        code = error.code_for(session.ocpp_version)
        text = error_frame(message_id, code, error.description, error.details)
        await self.send(text_data=text)
        self.unanswered = None
        self.leave_admission()  # a CALLERROR answers the call too
        messagelog.record(session.identity, "out", text, CALLERROR, message_id, action, code,
                          _ms_since(started) if started else None, session.connection_id)

    async def handle_answer(self, frame, text):
        session = self.session
        async with self.outbound_lock:
            outstanding = self.outstanding
            if outstanding is None or outstanding.message_id != frame.message_id:
                messagelog.record(session.identity, "in", text,
                                  CALLRESULT if isinstance(frame, CallResult) else CALLERROR,
                                  frame.message_id, outcome="unmatched",
                                  connection_id=session.connection_id)
                return
            outstanding.timer.cancel()
            self.outstanding = None
            duration = _ms_since(outstanding.sent_at)
            if isinstance(frame, CallResult):
                try:
                    schemas.validate(session.ocpp_version, outstanding.action, schemas.RESPONSE,
                                     frame.payload)
                except OcppError as error:
                    outcome = error.kind
                    await database_sync_to_async(outbound.finish)(
                        outstanding.command_id, outbound.Status.ERROR, response=frame.payload,
                        error_code=error.kind,
                        error_description=f"The station's answer failed its schema: {error.description}",
                    )
                else:
                    outcome = "ok"
                    await database_sync_to_async(outbound.finish)(
                        outstanding.command_id, outbound.status_of_answer(frame.payload),
                        response=frame.payload,
                    )
                messagelog.record(session.identity, "in", text, CALLRESULT, frame.message_id,
                                  outstanding.action, outcome, duration, session.connection_id)
            else:
                assert isinstance(frame, CallError)
                await database_sync_to_async(outbound.finish)(
                    outstanding.command_id, outbound.Status.ERROR,
                    response=frame.error_details or None, error_code=frame.error_code[:64],
                    error_description=frame.error_description,
                )
                messagelog.record(session.identity, "in", text, CALLERROR, frame.message_id,
                                  outstanding.action, frame.error_code[:64], duration,
                                  session.connection_id)
        await self.pump()

    # --- calls out --------------------------------------------------------------------------

    async def pump(self):
        """Send the oldest queued command if no call is outstanding."""
        session = self.session
        directory = lifecycle.directory()
        async with self.outbound_lock:
            while self.outstanding is None and not self.closing:
                command = await database_sync_to_async(outbound.claim_next)(
                    session.identity, session.connection_id
                )
                if command is None:
                    return
                refusal = directory.may_send(session, command.action)
                if refusal:
                    await database_sync_to_async(outbound.finish)(
                        command.pk, outbound.Status.ERROR, error_code="NotSent",
                        error_description=refusal,
                    )
                    continue
                text = call_frame(command.message_id, command.action, command.payload)
                timer = asyncio.get_running_loop().call_later(
                    settings.OCPP_CALL_TIMEOUT, self.on_timer, command.message_id
                )
                self.outstanding = OutstandingCall(
                    command.message_id, command.pk, command.action, time.monotonic(), timer
                )
                await self.send(text_data=text)
                messagelog.record(session.identity, "out", text, CALL, command.message_id,
                                  command.action, connection_id=session.connection_id)

    def on_timer(self, message_id):
        task = asyncio.ensure_future(self.time_out(message_id))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def time_out(self, message_id):
        try:
            await self.record_time_out(message_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The command stays `sent`; the sweep ends it once its time is long past.
            logger.exception("Recording the timeout of %s for %s failed", message_id,
                             self.identity_for_log)

    async def record_time_out(self, message_id):
        async with self.outbound_lock:
            if self.outstanding is None or self.outstanding.message_id != message_id:
                return
            command_id = self.outstanding.command_id
            self.outstanding = None
            await database_sync_to_async(outbound.finish)(
                command_id, outbound.Status.TIMEOUT,
                error_description=f"No answer within {settings.OCPP_CALL_TIMEOUT:g} s",
            )
        await self.pump()

    # --- channel-layer events ---------------------------------------------------------------

    async def ocpp_command_ready(self, event):
        if self.session is not None:
            await self.pump()

    async def ocpp_replaced(self, event):
        if self.session is not None and event.get("connection_id") == self.session.connection_id:
            self.closing = True
            await self.close(code=1000)


def _ms_since(started):
    return round((time.monotonic() - started) * 1000, 2)
