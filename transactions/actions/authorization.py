"""Id tokens presented by stations: lookup, the authorization status (BRIEF §4) and the
idTokenInfo / idTagInfo answered."""
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from ..models import IdToken, IdTokenType, Transaction
from .common import OCPP16, iso

# A 1.6 idTag carries no type; recorded tokens get the type of the usual RFID card UID.
ID_TAG_TYPE = IdTokenType.ISO14443
# 2.0.1 statuses 1.6 cannot say are all "not valid" there.
STATUS_TO_16 = {"Accepted": "Accepted", "Blocked": "Blocked", "Expired": "Expired",
                "ConcurrentTx": "ConcurrentTx"}
# A transaction's answered start status that lets it count as the token's running transaction
# (empty: from before the status was kept, or no token answered yet).
ACCEPTED_STATUSES = ("", "Accepted")


def _tokens_presented_as(value, token_type=None):
    # 1.6 idTags carry no type: they match on value alone.
    queryset = IdToken.objects.select_related("group").filter(id_token=value)
    return (queryset.filter(type=token_type) if token_type else queryset).order_by("id")


def find_token(value, token_type=None):
    """The token with this value (and type, on 2.0.1); 1.6 idTags match on value alone."""
    return _tokens_presented_as(value, token_type).first()


def _token_for_authorization(value, token_type, station_pk, for_start, for_transaction):
    """find_token() with what authorize() checks beyond the row itself, in the same query:
    whether the token is restricted to some stations and allowed at this one, and (for a start)
    whether it is in another running transaction the CSMS accepted."""
    allowed = IdToken.allowed_stations.through.objects.filter(idtoken=OuterRef("pk"))
    checks = {"restricted": Exists(allowed), "allowed_here": Exists(allowed.filter(station=station_pk))}
    if for_start:
        # A refused transaction (ConcurrentTx or any refusal) never blocks its token.
        others = Transaction.objects.filter(
            id_token=OuterRef("pk"), state=Transaction.State.ACTIVE,
            authorization_status__in=ACCEPTED_STATUSES)
        if for_transaction is not None:
            others = others.exclude(pk=for_transaction.pk)
        checks["in_other_transaction"] = Exists(others)
    token = _tokens_presented_as(value, token_type).annotate(**checks).first()
    if token is not None and not for_start:
        token.in_other_transaction = False
    return token


@dataclass
class Authorization:
    status: str  # in 2.0.1 AuthorizationStatus words
    token: IdToken | None = None


def authorize(station_pk, value, token_type=None, for_transaction=None, for_start=False):
    """The authorization status of a presented token at a station (BRIEF §4). ConcurrentTx only
    for a start (TransactionEvent Started, StartTransaction): OCPP gives it no meaning elsewhere
    (1.6 and 2.0.1 AuthorizationStatus: "only relevant for" the start), so Authorize,
    Updated and Ended / StopTransaction never answer it."""
    token = _token_for_authorization(value, token_type, station_pk, for_start, for_transaction)
    if token is None:
        if settings.TRANSACTIONS_UNKNOWN_ID_TOKEN_POLICY != "accept":
            return Authorization("Unknown")
        token, created = record_unknown_token(value, token_type or ID_TAG_TYPE)
        if created:  # no station restriction, in no transaction
            token.restricted = token.allowed_here = token.in_other_transaction = False
        else:  # recorded by a concurrent request meanwhile
            token = _token_for_authorization(value, token.type, station_pk, for_start,
                                             for_transaction)
    now = timezone.now()
    group = token.group
    if token.status == IdToken.Status.BLOCKED or (group and group.status == IdToken.Status.BLOCKED):
        return Authorization("Blocked", token)
    if token.status == IdToken.Status.INVALID:
        return Authorization("Invalid", token)
    if token.expires_at and token.expires_at <= now:
        return Authorization("Expired", token)
    if token.restricted and not token.allowed_here:
        return Authorization("NotAtThisLocation", token)
    if token.spending_limit is not None and spent_by(token) >= token.spending_limit:
        return Authorization("NoCredit", token)
    if not token.allow_concurrent_transactions and token.in_other_transaction:
        return Authorization("ConcurrentTx", token)
    return Authorization("Accepted", token)


def spent_by(token):
    return Transaction.objects.filter(id_token=token).aggregate(
        total=Sum("total_cost"))["total"] or 0


def record_unknown_token(value, token_type):
    """(token, created): the token recorded on first presentation."""
    return IdToken.objects.get_or_create(
        id_token=value, type=token_type,
        defaults={"seen_first_at_station": True, "description": "Recorded when first presented"},
    )


def _cache_expiry(token):
    if token.expires_at:
        return token.expires_at
    lifetime = settings.TRANSACTIONS_ID_TOKEN_CACHE_SECONDS
    return timezone.now() + timedelta(seconds=lifetime) if lifetime else None


def id_token_info(token, status, with_cache_expiry=True):
    """2.0.1 IdTokenInfo of a token for a status."""
    info = {"status": status}
    if token is None:
        return info
    expiry = _cache_expiry(token) if with_cache_expiry else token.expires_at
    if expiry:
        info["cacheExpiryDateTime"] = iso(expiry)
    if token.charging_priority:
        info["chargingPriority"] = token.charging_priority
    if token.language:
        info["language1"] = token.language
    if token.group:
        info["groupIdToken"] = {"idToken": token.group.id_token, "type": token.group.type}
    if token.personal_message:
        message = {"format": token.personal_message_format, "content": token.personal_message}
        if token.language:
            message["language"] = token.language
        info["personalMessage"] = message
    if token.allowed_evse_ids:
        info["evseId"] = list(token.allowed_evse_ids)
    return info


def id_tag_info(token, status, with_cache_expiry=True):
    """1.6 IdTagInfo of a token for a (2.0.1-worded) status."""
    info = {"status": STATUS_TO_16.get(status, "Invalid")}
    if token is None:
        return info
    expiry = _cache_expiry(token) if with_cache_expiry else token.expires_at
    if expiry:
        info["expiryDate"] = iso(expiry)
    if token.group:
        info["parentIdTag"] = token.group.id_token[:20]
    return info


def info_for(version, authorization):
    if version == OCPP16:
        return id_tag_info(authorization.token, authorization.status)
    return id_token_info(authorization.token, authorization.status)


def authorize_request(station_pk, version, value, token_type=None):
    """Authorize.req: the idTokenInfo (2.0.1) or idTagInfo (1.6) to answer with."""
    return info_for(version, authorize(station_pk, value, token_type))

