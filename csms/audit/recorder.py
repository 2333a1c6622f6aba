"""Writing audit entries: the request being served (who, from where) is kept in a context
variable by the middleware, so `record(...)` deep inside an action knows who caused it."""
import contextvars
import ipaddress
import re
from dataclasses import dataclass, field

from django.conf import settings

# Keys whose values never reach the audit trail (passwords, secrets, tokens, keys, CSRF).
SECRET_KEY_PATTERN = re.compile(r"pass|secret|token|key|csrf|credential|authorization|cert",
                                re.IGNORECASE)
REDACTED = "<redacted>"
MAX_VALUE_CHARS = 500


@dataclass
class RequestContext:
    request: object
    ip_address: str | None
    recorded: list = field(default_factory=list)


_current = contextvars.ContextVar("audit_request", default=None)


def client_ip(request):
    """The peer's address; X-Forwarded-For only when the peer is a trusted proxy."""
    remote = request.META.get("REMOTE_ADDR") or None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if remote and forwarded and _trusted_proxy(remote):
        candidate = forwarded.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return remote
    return remote


def _trusted_proxy(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(proxy, strict=False)
               for proxy in getattr(settings, "OCPP_TRUSTED_PROXIES", []))


def redact(value, key=""):
    """A copy of a request body or payload with every secret-looking key's value hidden."""
    if key and SECRET_KEY_PATTERN.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {str(k): redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value[:50]]
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + "…"
    return value


def begin(request):
    return _current.set(RequestContext(request=request, ip_address=client_ip(request)))


def end(marker):
    _current.reset(marker)


def current():
    return _current.get()


def actor(request):
    """(user, username, via) of a request: the session's user or the API token's."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None, "", ""
    # Set on the Django request by csms.api.authentication when an API token authenticated it.
    token = getattr(request, "api_token", None)
    via = f"API token {token.name}"[:120] if token is not None else ""
    return user, user.get_username(), via


def record(kind, summary, identity="", details=None, user=None):
    """Write one audit entry for the request being served (or the given user, or the system)."""
    from .models import AuditEntry

    context = current()
    request = context.request if context else None
    entry_user, username, via = actor(request) if request is not None else (None, "", "")
    if user is not None:
        entry_user, username = user, user.get_username()
    entry = AuditEntry.objects.create(
        user=entry_user, username=username, via=via,
        ip_address=context.ip_address if context else None, kind=kind,
        method=request.method if request is not None else "",
        path=request.path[:500] if request is not None else "",
        identity=identity or (station_of(request) if request is not None else ""),
        summary=summary[:300], details=redact(details or {}))
    if context is not None:
        context.recorded.append(entry)
    return entry


def station_of(request):
    """The station identity named by the URL, if any."""
    match = getattr(request, "resolver_match", None)
    kwargs = match.kwargs if match else {}
    for name in ("identity", "station_identity", "station"):
        value = kwargs.get(name)
        if isinstance(value, str):
            return value[:48]
    return ""
