"""What the CSMS knows of a station connection's transport: TLS and the client certificate, learnt
only from a terminator it trusts (its own TLS port, or a proxy in OCPP_TRUSTED_PROXIES)."""
import functools
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID
from django.conf import settings

# Scope keys csms/ocpp/server.py fills in: the TCP peer (before any X-Forwarded-For) and, on
# its own TLS ports, the ASGI TLS extension (client_cert_name: the verified certificate's subject).
PEER_ADDRESS = "peer_address"
TLS_EXTENSION = "tls"


@dataclass(frozen=True)
class Transport:
    tls: bool = False
    # The CN of a client certificate the terminator verified; "" when none was presented.
    client_cn: str = ""
    # Why a presented client certificate does not count ("" when it does, or none came).
    client_problem: str = ""
    # Who told us: "server" (our own TLS), "proxy" (a trusted proxy's headers) or "" (plain).
    terminator: str = ""


@functools.lru_cache(maxsize=8)
def _networks(value):
    return tuple(ipaddress.ip_network(item, strict=False) for item in value)


def trusted_proxy(address):
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.OCPP_TRUSTED_PROXIES)))


def common_name(distinguished_name):
    """The CN of an RFC 4514 subject ("CN=CS-1,O=CSMS"), or "" when it has none or is malformed."""
    try:
        name = x509.Name.from_rfc4514_string(distinguished_name)
    except ValueError:
        return ""
    names = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[-1].value) if names else ""


def _header(headers, wanted):
    for name, value in headers:
        if name == wanted:
            return value.decode("latin-1").strip()
    return ""


def describe(scope):
    """The Transport of a WebSocket scope. Forwarded headers count only from a trusted proxy:
    from anyone else they are ignored, so a station on the plain port cannot claim TLS."""
    extensions = scope.get("extensions") or {}
    tls = extensions.get(TLS_EXTENSION)
    if tls is not None:
        # Our own TLS port: OpenSSL already refused a certificate that does not verify.
        subject = tls.get("client_cert_name") or ""
        return Transport(True, common_name(subject) if subject else "", "", "server")
    if not trusted_proxy(scope.get(PEER_ADDRESS)):
        return Transport()
    headers = scope.get("headers") or []
    if _header(headers, b"x-forwarded-proto").lower() not in ("https", "wss"):
        return Transport(terminator="proxy")
    verify = _header(headers, b"x-ssl-client-verify")
    if verify in ("", "NONE"):
        return Transport(True, terminator="proxy")
    if verify != "SUCCESS":
        return Transport(True, "", f"client certificate not verified ({verify})", "proxy")
    cn = common_name(_header(headers, b"x-ssl-client-s-dn"))
    if not cn:
        return Transport(True, "", "client certificate has no CN", "proxy")
    return Transport(True, cn, "", "proxy")
