"""Security profiles 1-3 enforced on every upgrade: what the connection's transport must be for the
station's profile, and whether its Basic-auth password is checked at all (never for profile 3)."""
import logging

from django.conf import settings

from csms.ocpp.lifecycle import Admission
from csms.ocpp.transport import Transport

logger = logging.getLogger(__name__)

BASIC_AUTH_OVER_WS = 1
BASIC_AUTH_OVER_TLS = 2
MUTUAL_TLS = 3


def refusal(station, identity, transport, remote_address):
    """The Admission refusing this connection for the station's profile, or None when the
    transport fits it. No downgrade: plain ws never admits a profile 2 or 3 station, and a
    password never stands in for a profile 3 station's certificate."""
    transport = transport or Transport()
    profile = station.security_profile
    problem = None
    if not transport.tls:
        if profile >= BASIC_AUTH_OVER_TLS:
            problem = (426, f"Security profile {profile}: connect over TLS (wss://)")
        elif not settings.OCPP_ALLOW_SECURITY_PROFILE_1:
            problem = (426, "Security profile 1 (plain ws) is not allowed here: connect over TLS")
    elif profile == MUTUAL_TLS:
        if transport.client_problem:
            problem = (403, f"Security profile 3: {transport.client_problem}")
        elif not transport.client_cn:
            problem = (401, "Security profile 3: a client certificate is required")
        elif transport.client_cn != identity:
            problem = (403, "Security profile 3: the certificate's CN is not the station identity")
    if problem is None:
        return None
    status, reason = problem
    logger.warning("Refused %s from %s with %s: %s (terminator: %s, certificate CN: %r)",
                   identity, remote_address or "?", status, reason,
                   transport.terminator or "none", transport.client_cn)
    return Admission(False, status, reason)


def checks_password(station):
    """Profile 3 stations are known by their certificate alone: no password is ever accepted."""
    return station.security_profile != MUTUAL_TLS
