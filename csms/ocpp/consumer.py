"""The WebSocket consumer holding one station's OCPP session.

Incoming CALLs are handled here, in the process holding the socket. Outgoing CALLs are claimed
from the database queue when a nudge arrives; the consumer never awaits a station's answer inside
a handler, since Channels runs one handler at a time per consumer and the answer could never be read.
"""
import asyncio
import base64
import binascii
import logging
import time
import uuid
from dataclasses import dataclass

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from . import lifecycle, messagelog, outbound, presence, runtime, schemas
from .admission import ADMISSION_TIMEOUT, gate as admission_gate
from .framing import (
    CALL, CALLERROR, CALLRESULT, SUBPROTOCOLS, UNKNOWN_MESSAGE_ID, Call, CallError, CallResult,
    OcppError, call_frame, error_frame, parse_frame, result_frame,
)
from .router import router
from .session import StationSession
from .sessiondb import database_sync_to_async

logger = logging.getLogger(__name__)

MAX_IDENTITY_LENGTH = 48
DENIAL_EXTENSION = "websocket.http.response"


async def unknown_websocket_path(scope, receive, send):
    """An upgrade to a path nothing serves: HTTP 404 saying where stations connect (without this,
    the router's error would be a 500)."""
    await receive()  # websocket.connect
    if DENIAL_EXTENSION not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    await send({"type": "websocket.http.response.start", "status": 404,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "websocket.http.response.body",
                "body": b"Not found: stations connect to /ocpp/<identity>"})


@dataclass
class OutstandingCall:
    message_id: str
    command_id: int
    action: str
    sent_at: float
    timer: asyncio.TimerHandle


def valid_identity(identity):
    return (
        0 < len(identity) <= MAX_IDENTITY_LENGTH
        and identity.isprintable()
        and "/" not in identity
    )


def parse_basic_auth(headers):
    """(username, password) from an Authorization: Basic header, or None."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, encoded = value.partition(b" ")
            if scheme.lower() != b"basic":
                return None
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            username, separator, password = decoded.partition(":")
            return (username, password) if separator else None
    return None


def choose_subprotocol(offered):
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return None


class OcppConsumer(AsyncWebsocketConsumer):
    session: StationSession

    async def connect(self):
        self.outstanding = None
        self.closing = False
        self.outbound_lock = asyncio.Lock()
        self.background = set()
        self.last_seen_written = 0.0
        identity = self.scope["url_route"]["kwargs"]["identity"]
        subprotocol = choose_subprotocol(self.scope.get("subprotocols", []))
        if subprotocol is None or not valid_identity(identity):
            # BRIEF §1: no common subprotocol (or no usable identity) refuses the upgrade.
            await self.close()
            return
        ocpp_version = SUBPROTOCOLS[subprotocol]
        self.enter_admission()
        client = self.scope.get("client") or ("", 0)
        remote_address = client[0] if client else ""
        directory = lifecycle.directory()
        admission = await database_sync_to_async(directory.admit)(
            identity, ocpp_version, parse_basic_auth(self.scope.get("headers", [])), remote_address,
        )
        if not admission.admitted:
            self.leave_admission()
            await self.deny(admission)
            return
        self.session = StationSession(
            identity=identity, ocpp_version=ocpp_version, connection_id=str(uuid.uuid4()),
            channel_name=self.channel_name, remote_address=remote_address,
            station_pk=admission.station_pk, registration_status=admission.registration_status,
        )
        runtime.ensure_started()
        await self.accept(subprotocol)
        previous = await database_sync_to_async(self.open_session)(directory)
        if previous and previous[1] != self.session.connection_id:
            # One identity, one live socket: the newest wins, wherever the old one lives.
            await self.channel_layer.send(
                previous[0], {"type": "ocpp.replaced", "connection_id": previous[1]}
            )
        self.last_seen_written = time.monotonic()
        await self.pump()

    def enter_admission(self):
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
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    def open_session(self, directory):
        """Register the socket and mark the station connected: one trip to the database thread."""
        previous = presence.register(self.session)
        presence.hold(self.session)
        directory.connected(self.session)
        return previous

    async def deny(self, admission):
        if DENIAL_EXTENSION in self.scope.get("extensions", {}):
            headers = [(b"content-type", b"text/plain")]
            if admission.http_status == 401:
                headers.append((b"www-authenticate", b'Basic realm="OCPP"'))
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

    async def disconnect(self, code):
        self.closing = True
        self.leave_admission()
        session = getattr(self, "session", None)
        if session is None:
            return
        async with self.outbound_lock:
            if self.outstanding is not None:
                self.outstanding.timer.cancel()
                await database_sync_to_async(outbound.finish)(
                    self.outstanding.command_id, outbound.Status.ERROR,
                    error_code="ConnectionClosed",
                    error_description="The connection closed before the station answered",
                )
                self.outstanding = None
        presence.release(session)
        was_live = await database_sync_to_async(presence.unregister)(
            session.identity, session.connection_id
        )
        if was_live:
            await database_sync_to_async(outbound.mark_offline)(session.identity)
            await database_sync_to_async(lifecycle.directory().disconnected)(session)
        for task in self.background:
            task.cancel()

    # --- frames in --------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
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
            messagelog.record(session.identity, "in", text_data, CALL, frame.message_id,
                              frame.action, connection_id=session.connection_id)
            await self.handle_call(frame)
        else:
            await self.handle_answer(frame, text_data)
        if time.monotonic() - self.last_seen_written >= settings.OCPP_LAST_SEEN_WRITE_INTERVAL:
            self.last_seen_written = time.monotonic()
            await database_sync_to_async(lifecycle.directory().seen)(session)

    async def handle_call(self, call):
        session = self.session
        started = time.monotonic()
        was_accepted = session.accepted
        try:
            result = await self.run_handler(call)
        except OcppError as error:
            await self.send_error(call.message_id, error, call.action, started)
            return
        except Exception:
            logger.exception("%s handler failed for %s", call.action, session.identity)
            await self.send_error(
                call.message_id, OcppError("InternalError", "The CSMS failed to handle this call"),
                call.action, started,
            )
            return
        text = result_frame(call.message_id, result)
        await self.send(text_data=text)
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
        registered = router.lookup(version, call.action)
        if registered is None:
            raise OcppError("NotSupported", f"{call.action} is not supported by this CSMS")
        schemas.validate(version, call.action, schemas.REQUEST, call.payload)
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
        await self.pump()

    async def ocpp_replaced(self, event):
        if event.get("connection_id") == self.session.connection_id:
            self.closing = True
            await self.close(code=1000)


def _ms_since(started):
    return round((time.monotonic() - started) * 1000, 2)
