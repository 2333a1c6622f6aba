"""Security state changes: a station's security log (SecurityEventNotification; critical types
raise an alert) and failed station logins, counted per identity and per source address, with
the exponential backoff that refuses further attempts without checking a password."""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from .. import live
from ..models import Alert, LoginFailure, LoginThrottle, SecurityEvent
from ..models.security import CRITICAL_SECURITY_EVENTS
from . import _parse_time
from .alerts import raise_alert

logger = logging.getLogger(__name__)
Scope = LoginThrottle.Scope


# --- security log ------------------------------------------------------------------------------

def security_event_summary(event):
    return {"id": event.pk, "station": event.station.identity, "type": event.type,
            "timestamp": event.timestamp.isoformat(), "tech_info": event.tech_info,
            "critical": event.critical}


def record_security_event(station_pk, event_type, timestamp, tech_info=""):
    """Store one SecurityEventNotification; a critical type raises (or updates) the station's
    alert for that type, so the operator sees it with the other alerts."""
    occurred_at = _parse_time(timestamp) or timezone.now()
    critical = event_type in CRITICAL_SECURITY_EVENTS
    event = SecurityEvent.objects.create(station_id=station_pk, type=event_type[:50],
                                         timestamp=occurred_at, tech_info=(tech_info or "")[:255],
                                         critical=critical)
    if critical:
        raise_alert(Alert.Kind.SECURITY_EVENT, station_pk, subject=event.type,
                    message=f"{event.type}" + (f": {event.tech_info}" if event.tech_info else ""),
                    details={"type": event.type, "timestamp": occurred_at.isoformat(),
                             "tech_info": event.tech_info, "security_event": event.pk})
    event = SecurityEvent.objects.select_related("station").get(pk=event.pk)
    transaction.on_commit(lambda: live.publish(
        "security_event", {"event": security_event_summary(event)}, station=event.station.identity))
    return event


# --- failed logins and their throttle ----------------------------------------------------------

def _threshold(scope):
    if scope == Scope.IDENTITY:
        return settings.OCPP_LOGIN_THROTTLE_IDENTITY_FAILURES
    return settings.OCPP_LOGIN_THROTTLE_ADDRESS_FAILURES


def backoff_seconds(scope, failures):
    """How long after its last failure a key with `failures` failures is refused (0: not)."""
    threshold = _threshold(scope)
    if threshold <= 0 or failures < threshold:
        return 0.0
    # Doubling past the threshold; the exponent is capped so huge counts cannot overflow.
    doubled = settings.OCPP_LOGIN_THROTTLE_BASE_SECONDS * 2 ** min(failures - threshold, 40)
    return min(doubled, settings.OCPP_LOGIN_THROTTLE_MAX_SECONDS)


def _current_failures(throttle, now):
    forget = timedelta(seconds=settings.OCPP_LOGIN_THROTTLE_FORGET_SECONDS)
    if throttle.last_failure_at is None or now - throttle.last_failure_at > forget:
        return 0
    return throttle.failures


def blocked_until(throttle, now=None):
    """When `throttle`'s key may try again, or None if it may now."""
    now = now or timezone.now()
    failures = _current_failures(throttle, now)
    seconds = backoff_seconds(throttle.scope, failures)
    if not seconds:
        return None
    until = throttle.last_failure_at + timedelta(seconds=seconds)
    return until if until > now else None


def _keys(identity, remote_address):
    keys = [(Scope.IDENTITY, identity)]
    if remote_address:
        keys.append((Scope.ADDRESS, remote_address[:64]))
    return keys


def login_throttles(identity, remote_address):
    """The (at most two) throttle rows of an upgrade: one query."""
    wanted = Q()
    for scope, key in _keys(identity, remote_address):
        wanted |= Q(scope=scope, key=key)
    return list(LoginThrottle.objects.filter(wanted))


def throttled(throttles, now=None):
    """Seconds until the identity and the address may both try again (0: they may now). When
    throttled the attempt is counted as refused, and no password is checked."""
    now = now or timezone.now()
    waits = [until for until in (blocked_until(throttle, now) for throttle in throttles) if until]
    if not waits:
        return 0
    LoginThrottle.objects.filter(pk__in=[t.pk for t in throttles]).update(refused=F("refused") + 1)
    return max(1, int((max(waits) - now).total_seconds() + 0.999))


def record_login_failure(station, identity, remote_address, reason, now=None):
    """Log a refused login (never the password tried) and count it against the identity and
    the source address."""
    now = now or timezone.now()
    LoginFailure.objects.create(station=station, remote_address=(remote_address or "")[:64],
                                reason=reason, at=now)
    counts = {}
    for scope, key in _keys(identity, remote_address):
        with transaction.atomic():
            throttle = _locked_throttle(scope, key)
            throttle.failures = _current_failures(throttle, now) + 1
            throttle.last_failure_at = now
            throttle.save(update_fields=["failures", "last_failure_at"])
        counts[scope] = throttle.failures
    logger.warning("Station login refused (%s) for %s from %s: failure %d of the identity, %d of "
                   "the address", reason, identity, remote_address or "?",
                   counts.get(Scope.IDENTITY, 0), counts.get(Scope.ADDRESS, 0))
    live.publish("login_failure", {"station": identity, "reason": reason}, station=identity)


def _locked_throttle(scope, key):
    try:
        with transaction.atomic():
            LoginThrottle.objects.get_or_create(scope=scope, key=key)
    except IntegrityError:  # made meanwhile by another process
        pass
    return LoginThrottle.objects.select_for_update().get(scope=scope, key=key)


def clear_identity_failures(throttles):
    """A successful login forgives its identity's failures (not its address's: one good
    password must not reset the count of guesses made at other stations from there)."""
    pks = [t.pk for t in throttles if t.scope == Scope.IDENTITY and t.failures]
    if pks:
        LoginThrottle.objects.filter(pk__in=pks).update(failures=0)


def station_login_state(station, now=None):
    """The station page's view of its logins: its throttle and last failures."""
    now = now or timezone.now()
    throttle = LoginThrottle.objects.filter(scope=Scope.IDENTITY, key=station.identity).first()
    return {
        "failures": _current_failures(throttle, now) if throttle else 0,
        "blocked_until": blocked_until(throttle, now) if throttle else None,
        "refused": throttle.refused if throttle else 0,
        "last_failures": list(station.login_failures.all()[:10]),
    }
