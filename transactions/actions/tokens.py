"""Token management by operators: CSV import, dashboard form saves, status changes."""
import csv
import io

from django.db import transaction as db_transaction

from ..models import IdToken, IdTokenType
from .authorization import find_token
from .common import InvalidRequest, parse_time

CSV_FIELDS = ["id_token", "type", "status", "expires_at", "group", "language", "personal_message",
              "charging_priority", "allow_concurrent_transactions", "spending_limit", "description"]


def import_tokens_csv(text):
    """Create or update tokens from CSV (header: id_token plus any of CSV_FIELDS); the group
    column names a token value (created as a Central token if new). Returns counts; raises
    InvalidRequest naming the first bad line, and then changes nothing."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "id_token" not in reader.fieldnames:
        raise InvalidRequest("The CSV needs a header line with an id_token column.")
    unknown = set(reader.fieldnames) - set(CSV_FIELDS)
    if unknown:
        raise InvalidRequest(f"Unknown CSV columns: {', '.join(sorted(unknown))}")
    created = updated = 0
    with db_transaction.atomic():
        for line, row in enumerate(reader, start=2):
            try:
                was_created = _import_token_row(row)
            except (ValueError, KeyError) as error:
                raise InvalidRequest(f"Line {line}: {error}") from error
            created += was_created
            updated += not was_created
    return {"created": created, "updated": updated}


def _import_token_row(row):
    from django.core.exceptions import ValidationError

    value = (row.get("id_token") or "").strip()
    if not value or len(value) > 36:
        raise ValueError("id_token must have 1 to 36 characters")
    token_type = (row.get("type") or "").strip() or IdTokenType.ISO14443
    if token_type not in IdTokenType.values:
        raise ValueError(f"unknown type {token_type!r}")
    token, created = IdToken.objects.get_or_create(id_token=value, type=token_type)
    for field in ("status", "language", "personal_message", "description"):
        if (row.get(field) or "").strip():
            setattr(token, field, row[field].strip())
    if (row.get("expires_at") or "").strip():
        expires_at = parse_time(row["expires_at"].strip())
        if expires_at is None:
            raise ValueError(f"expires_at {row['expires_at']!r} is not an ISO 8601 date-time")
        token.expires_at = expires_at
    if (row.get("charging_priority") or "").strip():
        token.charging_priority = int(row["charging_priority"])
    if (row.get("allow_concurrent_transactions") or "").strip():
        token.allow_concurrent_transactions = row["allow_concurrent_transactions"].strip().lower() in {
            "1", "true", "yes"}
    if (row.get("spending_limit") or "").strip():
        from decimal import Decimal, InvalidOperation
        try:
            token.spending_limit = Decimal(row["spending_limit"].strip())
        except InvalidOperation:
            raise ValueError("spending_limit is not a number") from None
    if (row.get("group") or "").strip():
        group = find_token(row["group"].strip()) or IdToken.objects.create(
            id_token=row["group"].strip()[:36], type=IdTokenType.CENTRAL,
            description="Group token")
        token.group = group
    try:
        token.full_clean(exclude=["allowed_stations"])
    except ValidationError as error:
        raise ValueError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items()))
    token.save()
    return created


def save_token(form):
    """Create or change a token from a validated dashboard form."""
    return form.save()


def set_token_status(token, status):
    if status not in IdToken.Status.values:
        raise InvalidRequest(f"Unknown token status {status!r}")
    token.status = status
    token.save(update_fields=["status", "updated_at"])
    return token
