"""HTTP Basic auth of a station's WebSocket upgrade (security profiles 1 and 2): throttled per
identity and source address, every failure logged, and no shortcut that makes a wrong guess
cheaper than the password hasher."""
import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from csms.ocpp.lifecycle import Admission

from .actions import password_rotation
from .actions import security as security_actions
from .models import LoginFailure

Reason = LoginFailure.Reason
MAX_VERIFIED = 100_000

# Logins this process has verified, as HMAC(SECRET_KEY, identity, hash, password): a reconnect
# storm does not pay the hasher once per socket, yet a wrong guess never matches an entry and
# always pays the full hasher (a cache that compared guesses to a stored digest made 300
# guesses take 1.9 s). The stored hash is part of the key, so a new password misses.
_verified = set()


def _fingerprint(identity, password_hash, password):
    message = "\x00".join((identity, password_hash, password)).encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()


def _matches(identity, password_hash, password):
    if not password_hash:
        return False
    fingerprint = _fingerprint(identity, password_hash, password)
    if fingerprint in _verified:
        return True
    if not check_password(password, password_hash):
        return False
    if len(_verified) >= MAX_VERIFIED:
        _verified.clear()
    _verified.add(fingerprint)
    return True


def split_credentials(identity, basic_auth):
    """(username, password) of the Authorization header as the station meant it: an identity
    may contain ':' (identifierString), which the header's first ':' would cut."""
    if basic_auth is None:
        return None
    username, password = basic_auth
    joined = f"{username}:{password}"
    if username != identity and joined.startswith(identity + ":"):
        return identity, joined[len(identity) + 1:]
    return username, password


def authenticate(station, identity, basic_auth, remote_address):
    """The admission of an upgrade to a station that has a password."""
    throttles = security_actions.login_throttles(identity, remote_address)
    retry_after = security_actions.throttled(throttles)
    if retry_after:
        # Refused before any password check: past the threshold a guess costs no hashing.
        return Admission(False, 429, "Too many failed logins; retry later", retry_after=retry_after)
    credentials = split_credentials(identity, basic_auth)
    if credentials is None:
        reason = Reason.NO_CREDENTIALS
    elif credentials[0] != identity:
        reason = Reason.WRONG_USERNAME
    elif _password_matches(station, credentials[1]):
        security_actions.clear_identity_failures(throttles)
        return None
    else:
        reason = Reason.WRONG_PASSWORD
    security_actions.record_login_failure(station, identity, remote_address, reason,
                                          timezone.now())
    if reason == Reason.NO_CREDENTIALS:
        return Admission(False, 401, "HTTP Basic authentication required")
    return Admission(False, 401, "Wrong identity or password")


def _password_matches(station, password):
    fingerprint_known = _fingerprint(station.identity, station.password_hash, password) in _verified
    if _matches(station.identity, station.password_hash, password):
        if not fingerprint_known:  # first login with this password here: ends a rotation's grace
            password_rotation.complete_on_login(station)
        return True
    # A01: after a rotation the old password stays valid until the station logs in with the new.
    previous = password_rotation.previous_password_hash(station)
    return bool(previous) and _matches(station.identity, previous, password)
