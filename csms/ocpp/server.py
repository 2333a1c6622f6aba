"""Daphne, tuned for long-lived station sockets.

Adds to stock daphne: the ASGI WebSocket denial response (so a wrong password is answered HTTP
401, not 403), permessage-deflate (RFC 7692, expected by 2.0.1 stations) and no idle cut-off.
"""
from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateOfferAccept
from autobahn.websocket.types import ConnectionDeny
from daphne import server as daphne_server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol

DENIAL_EXTENSION = "websocket.http.response"


class StationWebSocketProtocol(WebSocketProtocol):
    def handle_reply(self, message):
        kind = message.get("type")
        if kind == "websocket.http.response.start" and self.state == self.STATE_CONNECTING:
            self.denial_status = message.get("status", 403)
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
        super().handle_reply(message)


# OCPP frames are small: a 1 KiB window each way compresses them nearly as well as the default
# 32 KiB and keeps ~250 KiB of zlib state per connection off the server (benchmarks/README.md).
DEFLATE_WINDOW_BITS = 10
DEFLATE_MEM_LEVEL = 4


def accept_deflate(offers):
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            window = DEFLATE_WINDOW_BITS
            if offer.request_max_window_bits:
                window = min(window, offer.request_max_window_bits)
            return PerMessageDeflateOfferAccept(
                offer,
                request_max_window_bits=DEFLATE_WINDOW_BITS if offer.accept_max_window_bits else 0,
                window_bits=window, mem_level=DEFLATE_MEM_LEVEL,
            )
    return None


class StationWebSocketFactory(WebSocketFactory):
    protocol = StationWebSocketProtocol

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setProtocolOptions(perMessageCompressionAccept=accept_deflate)


class StationServer(daphne_server.Server):
    def create_application(self, protocol, scope):
        if scope.get("type") == "websocket":
            scope.setdefault("extensions", {})[DENIAL_EXTENSION] = {}
        return super().create_application(protocol, scope)


def run(application, endpoints, ping_interval, verbosity=1, proxy_headers=False):
    # daphne builds its factory inside Server.run(); point it at ours.
    daphne_server.WebSocketFactory = StationWebSocketFactory
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
        websocket_connect_timeout=20,
        application_close_timeout=10,
        verbosity=verbosity,
        server_name="csms",
        **options,
    ).run()
