"""Daphne, tuned for long-lived station sockets.

Adds to stock daphne: the ASGI WebSocket denial response (so a wrong password is answered HTTP
401, not 403), permessage-deflate (RFC 7692, expected by 2.0.1 stations), no idle cut-off for
station sockets, a frame size limit answered with close 1009, and an idle limit for bare TCP.
"""
import logging
import types

from autobahn.websocket import protocol as autobahn_protocol
from autobahn.websocket.compress import (
    PerMessageDeflate, PerMessageDeflateOffer, PerMessageDeflateOfferAccept,
)
from autobahn.websocket.types import ConnectionDeny
from daphne import server as daphne_server
from twisted.internet.endpoints import serverFromString as twisted_server_from_string
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from django.conf import settings

from . import admission, transport
from .tls import TLS_ENDPOINT_PREFIX, context_factory as tls_context_factory, tls_endpoint
from .workers import REUSE_PORT_PREFIX, reuse_port_endpoint

logger = logging.getLogger(__name__)

DENIAL_EXTENSION = "websocket.http.response"
# autobahn drops an opening handshake unanswered this long (s) after the upgrade timeout, so
# the timeout's 503 comes first: the timeout walk runs every 2 s x TIMEOUT_CHECK_EVERY (below)
# at most. (daphne's 5 s dropped slow admissions, e.g. password checks in a reconnect storm.)
HANDSHAKE_DROP_MARGIN = 8.0
# Told to a station whose upgrade timed out: the CSMS was too busy to admit it.
UPGRADE_RETRY_AFTER_SECONDS = 10


# autobahn pretty-prints its configuration and transport details for a debug line on every
# connection, whether debug is logged or not (2 % of the CPU of a reconnect storm); repr says
# the same for the rare debug session.
autobahn_protocol.pformat = repr


class StationWebSocketProtocol(WebSocketProtocol):
    def handle_reply(self, message):
        kind = message.get("type")
        if kind == "websocket.http.response.start" and self.state == self.STATE_CONNECTING:
            self.denial_status = message.get("status", 403)
            # autobahn's denial carries no headers of its own: failHandshake adds these.
            self.denial_headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers", [])
                if name.lower() not in (b"content-length", b"content-type")
            ]
            return
        if kind == "websocket.http.response.body" and self.state == self.STATE_CONNECTING:
            if message.get("more_body"):
                return
            reason = (message.get("body") or b"").decode("utf-8", "replace") or "Access denied"
            self.handshake_deferred.errback(
                ConnectionDeny(code=getattr(self, "denial_status", 403), reason=reason)
            )
            del self.handshake_deferred
            self.server.protocol_disconnected(self)
            return
        if kind == "websocket.close" and self.state == self.STATE_OPEN:
            # autobahn's sendClose takes only 1000 and 3000-4999 from an application; RFC 6455
            # lets a server say 1008 (policy), 1011 (internal error) or 1013 (try again later).
            reason = message.get("reason") or ""
            self.sendCloseFrame(code=message.get("code") or 1000,
                                reasonUtf8=reason.encode("utf-8")[:123] or None, isReply=False)
            return
        super().handle_reply(message)

    def check_timeouts(self):
        # daphne refuses an upgrade still unadmitted after websocket_connect_timeout with
        # 403 "Access denied", which a station may take as final. It is the CSMS that was slow
        # (a reconnect storm): say so, 503 with Retry-After.
        if (self.state == self.STATE_CONNECTING and hasattr(self, "handshake_deferred")
                and self.duration() > self.server.websocket_connect_timeout):
            logger.warning("Refused the upgrade of %s with 503: not admitted within %g s",
                           getattr(self, "path", b"?").decode("ascii", "replace"),
                           self.server.websocket_connect_timeout)
            self.denial_status = 503
            self.denial_headers = [("Retry-After", str(UPGRADE_RETRY_AFTER_SECONDS))]
            self.handshake_deferred.errback(ConnectionDeny(
                code=503, reason="The CSMS is busy admitting other stations; retry later"))
            del self.handshake_deferred
            self.server.protocol_disconnected(self)
            return
        super().check_timeouts()

    def failHandshake(self, reason, code=400, responseHeaders=None):
        headers = list(responseHeaders or []) + getattr(self, "denial_headers", [])
        super().failHandshake(reason, code, headers)

    def onOpen(self):
        if type(self._perMessageCompress) is PerMessageDeflate:
            self._perMessageCompress.__class__ = LeanPerMessageDeflate
        super().onOpen()

    def _fail_connection(self, code=1001, reason="going away"):
        # autobahn logs to Twisted's log, which runcsms discards: say it where operators look.
        if self.state != self.STATE_CLOSED:
            logger.warning("Closing WebSocket %s with %s: %s", getattr(self, "path", b"?").decode(
                "ascii", "replace"), code, reason)
        super()._fail_connection(code, reason)


class LeanPerMessageDeflate(PerMessageDeflate):
    """permessage-deflate that frees its zlib streams between messages where no context is
    taken over: an idle station then holds no compression state at all."""

    def end_compress_message(self):
        data = super().end_compress_message()
        if self.server_no_context_takeover:
            self._compressor = None
        return data

    def end_decompress_message(self):
        super().end_decompress_message()
        if self.client_no_context_takeover:
            self._decompressor = None


# OCPP frames are small: a 1 KiB window each way compresses them nearly as well as the default
# 32 KiB and keeps ~250 KiB of zlib state per connection off the server (benchmarks/README.md).
DEFLATE_WINDOW_BITS = 10
DEFLATE_MEM_LEVEL = 4


def accept_deflate(offers):
    """Accept permessage-deflate with small windows and, where the station allows it, no context
    takeover either way: each message is compressed on its own, so no zlib state outlives it."""
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            window = DEFLATE_WINDOW_BITS
            if offer.request_max_window_bits:
                window = min(window, offer.request_max_window_bits)
            return PerMessageDeflateOfferAccept(
                offer,
                request_max_window_bits=DEFLATE_WINDOW_BITS if offer.accept_max_window_bits else 0,
                request_no_context_takeover=bool(offer.accept_no_context_takeover),
                no_context_takeover=True,
                window_bits=window, mem_level=DEFLATE_MEM_LEVEL,
            )
    return None


def class_attribute(value):
    # A plain function stored on a class would become a method of every instance.
    return staticmethod(value) if isinstance(value, types.FunctionType) else value


class StationWebSocketFactory(WebSocketFactory):
    protocol = StationWebSocketProtocol

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # failByDrop=False: a failed connection (an oversize frame: 1009) gets a close frame
        # with its code, not a bare TCP drop the station cannot tell from a network fault.
        # closeHandshakeTimeout: a station on a slow link gets 5 s (not 1) to answer our close
        # frame before the TCP connection is aborted, so it reads the close code.
        self.setProtocolOptions(perMessageCompressionAccept=accept_deflate, failByDrop=False,
                                closeHandshakeTimeout=5)

    def buildProtocol(self, addr):
        if "openHandshakeTimeout" not in self.protocol.__dict__:
            # autobahn copies ~40 options from the factory into every connection's __dict__
            # unless the protocol class has them: give the class this factory's (final) values
            # once, so 10,000 idle sockets do not carry 10,000 copies.
            self.protocol = type("ConfiguredStationProtocol", (self.protocol,), {
                name: class_attribute(getattr(self, name)) for name in self.protocol.CONFIG_ATTRS
            })
        return super().buildProtocol(addr)


# daphne walks every connection once a second to reap finished application instances, and every
# 2 s to check timeouts; with thousands of sockets those walks are a steady share of the CPU (3 %
# at 1,000 in a reconnect storm). Run the walks every 5th / 3rd time their timers fire.
APPLICATION_CHECK_EVERY = 5  # x 1 s
# The timeout walk also sends the pings: walk at least every fifth of the ping interval.
TIMEOUT_CHECK_EVERY = 3  # x 2 s, at most


class StationWebRequest(WebRequest):
    """daphne's request without Twisted's own parse of POST form bodies: Django parses them, and
    Twisted answered a malformed multipart body with a bare 400 that Django never saw."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._parsePOSTFormSubmission = False


class StationHTTPFactory(HTTPFactory):
    """daphne's HTTP factory, closing a connection that sends no complete request (or stays idle
    between keep-alive requests) for HTTP_IDLE_TIMEOUT s; Twisted's default is 12 hours."""

    def __init__(self, server):
        super().__init__(server)
        self.timeOut = settings.HTTP_IDLE_TIMEOUT or None

    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = StationWebRequest
        return protocol


class StationServer(daphne_server.Server):
    application_checks = 0
    timeout_checks = 0

    # daphne's checkers re-arm themselves on the reactor at their end, calling these overrides
    # again; one that raised would never run again (no more pings, upgrade timeouts or reaped
    # instances in this process), so a failure is logged and the walk re-armed here.
    def application_checker(self):
        self.application_checks += 1
        if self.application_checks % APPLICATION_CHECK_EVERY:
            daphne_server.reactor.callLater(1, self.application_checker)
            return
        try:
            super().application_checker()
        except Exception:
            logger.exception("Reaping finished connections failed; trying again in 1 s")
            daphne_server.reactor.callLater(1, self.application_checker)

    def timeout_checker(self):
        self.timeout_checks += 1
        every = max(1, min(TIMEOUT_CHECK_EVERY, int(self.ping_interval // 10)))
        if self.timeout_checks % every == 0:
            for protocol in list(self.connections):
                try:
                    protocol.check_timeouts()
                except Exception:
                    logger.exception("Checking the timeouts of a connection failed")
        daphne_server.reactor.callLater(2, self.timeout_checker)

    def listen_success(self, port):
        admission.gate.add_port(port)
        super().listen_success(port)

    def create_application(self, protocol, scope):
        if scope.get("type") == "websocket":
            scope.setdefault("extensions", {})[DENIAL_EXTENSION] = {}
            describe_transport(protocol, scope)
        return super().create_application(protocol, scope)


def describe_transport(protocol, scope):
    """Put the TCP peer and, on our own TLS port, the verified client certificate in the scope
    (csms/ocpp/transport.py decides what they mean). X-Forwarded-For from an untrusted peer is
    undone: only a trusted proxy may say where a station connects from."""
    peer = protocol.transport.getPeer()
    peer_host = str(getattr(peer, "host", "") or "")
    scope[transport.PEER_ADDRESS] = peer_host
    if scope.get("client") and scope["client"][0] != peer_host and not transport.trusted_proxy(peer_host):
        scope["client"] = [peer_host, getattr(peer, "port", 0)]
    get_certificate = getattr(protocol.transport, "getPeerCertificate", None)
    if get_certificate is None:
        return
    certificate = get_certificate()
    subject = certificate.to_cryptography().subject.rfc4514_string() if certificate else ""
    scope["extensions"][transport.TLS_EXTENSION] = {
        "client_cert_name": subject or None, "client_cert_error": None,
        "server_cert": None, "client_cert_chain": [],
    }


def server_from_string(reactor, description):
    # daphne builds its endpoints from strings: ours name the TLS port with its settings.
    if description.startswith(TLS_ENDPOINT_PREFIX):
        return tls_endpoint(reactor, description)
    if description.startswith(REUSE_PORT_PREFIX):  # one of several workers on the port
        return reuse_port_endpoint(reactor, description, tls_context_factory)
    return twisted_server_from_string(reactor, description)


def run(application, endpoints, ping_interval, verbosity=1, proxy_headers=False):
    # daphne builds its factories inside Server.run(); point it at ours.
    daphne_server.WebSocketFactory = StationWebSocketFactory
    daphne_server.HTTPFactory = StationHTTPFactory
    daphne_server.serverFromString = server_from_string
    options = {}
    if proxy_headers:
        options.update(proxy_forwarded_address_header="X-Forwarded-For",
                       proxy_forwarded_port_header="X-Forwarded-Port",
                       proxy_forwarded_proto_header="X-Forwarded-Proto")
    StationServer(
        application=application,
        endpoints=endpoints,
        ping_interval=ping_interval,
        ping_timeout=ping_interval * 2,
        websocket_timeout=-1,  # daphne closes every socket after 24 h by default
        websocket_connect_timeout=settings.OCPP_UPGRADE_TIMEOUT,
        websocket_handshake_timeout=settings.OCPP_UPGRADE_TIMEOUT + HANDSHAKE_DROP_MARGIN,
        # Larger messages (after decompression) are refused with close 1009, see settings.
        websocket_max_message_size=settings.OCPP_MAX_FRAME_BYTES,
        websocket_max_frame_size=settings.OCPP_MAX_FRAME_BYTES,
        application_close_timeout=10,
        verbosity=verbosity,
        server_name="csms",
        **options,
    ).run()
