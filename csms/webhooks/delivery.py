"""Delivering webhook events: record one delivery per subscription after the caller commits, POST
it signed from a worker (never a station's handler thread), retry with exponential backoff."""
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import close_old_connections, connection, transaction as db_transaction
from django.utils import timezone

from csms.ocpp.ingest import OncePerBatch

from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-CSMS-Signature"
# A claimed delivery is left alone by other workers this long past the POST's own timeout.
LEASE_MARGIN_SECONDS = 30
# How many overdue deliveries one sweep dispatches (the next sweep takes the rest).
SWEEP_BATCH = 500

# The embedded default runs tasks in the caller: deliveries get threads of their own instead,
# so a slow receiver holds neither a station's handler nor the embedded beat.
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhooks")


def sign(secret, timestamp, body):
    """The X-CSMS-Signature value: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def emit(event_type, build_data):
    """Announce an event once the caller's database transaction commits (at once outside one).
    `build_data()` makes the event's data, and is called only when a subscription wants it.
    Never raises: a failing webhook must not fail the station's message that caused it."""
    db_transaction.on_commit(lambda: _record_safely(event_type, build_data))


def _record_safely(event_type, build_data):
    try:
        record(event_type, build_data)
    except Exception:
        logger.exception("webhook event %s not recorded", event_type)


def _read_active_subscriptions():
    """(pk, event_types) of every active subscription."""
    return list(WebhookSubscription.objects.filter(active=True).values_list("pk", "event_types"))


# A group commit's after-commit callbacks all run right after the same COMMIT: its hundreds of
# events share one read of the subscriptions (registered in csms.apps).
active_subscriptions = OncePerBatch(_read_active_subscriptions)


def record(event_type, build_data):
    """Write one pending delivery per active subscription to `event_type` and dispatch them.
    Returns the deliveries (none when nobody subscribes or there is no data)."""
    subscription_pks = [pk for pk, types in active_subscriptions() if event_type in (types or [])]
    if not subscription_pks:
        return []
    data = build_data()
    if data is None:
        return []
    now = timezone.now()
    event_id = uuid.uuid4()
    body = json.dumps({"id": str(event_id), "type": event_type, "created_at": now.isoformat(),
                       "data": data}, cls=DjangoJSONEncoder, separators=(",", ":"))
    deliveries = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(subscription_id=pk, event_id=event_id, event_type=event_type, body=body,
                        next_attempt_at=now)
        for pk in subscription_pks])
    for delivery in deliveries:
        dispatch(delivery.pk)
    return deliveries


def dispatch(delivery_pk, delay=0.0):
    """Attempt the delivery in `delay` s: a Celery task, or a thread of this process on the
    embedded default. Lost (broker away, process ended): the beat's sweep finds it due."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        if delay > 0:
            timer = threading.Timer(delay, _pool.submit, args=(_attempt_in_thread, delivery_pk))
            timer.daemon = True
            timer.start()
        else:
            _pool.submit(_attempt_in_thread, delivery_pk)
        return
    from .tasks import deliver_webhook

    try:
        deliver_webhook.apply_async((delivery_pk,), countdown=max(delay, 0.0))
    except Exception:
        logger.exception("webhook delivery %s not queued; the sweep will send it", delivery_pk)


def _attempt_in_thread(delivery_pk, trigger="retry"):
    close_old_connections()
    try:
        if trigger == "retry":
            attempt_due(delivery_pk)
        else:
            attempt_now(delivery_pk, trigger)
    except Exception:
        logger.exception("webhook delivery %s failed", delivery_pk)
    finally:
        connection.close()


def attempt_due(delivery_pk):
    """One automatic attempt, if the delivery is still pending and due. The row is claimed
    first (its next_attempt_at moved past the POST's timeout), so a sweep and a scheduled retry
    never post it twice. Returns the attempt, or None when there was nothing to do."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_pk, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now,
    ).update(next_attempt_at=lease)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_pk)
    return _post_and_record(delivery, "retry")


def attempt_now(delivery_pk, trigger):
    """One attempt asked for by an operator (redeliver), whatever the delivery's state."""
    delivery = WebhookDelivery.objects.select_related("subscription").filter(
        pk=delivery_pk).first()
    if delivery is None:
        return None
    return _post_and_record(delivery, trigger)


def redeliver(delivery, by):
    """Send a delivery again now (one attempt, in a worker). A pending one is just made due."""
    if delivery.status == WebhookDelivery.Status.PENDING:
        WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING,
                                       next_attempt_at__gt=timezone.now()).update(
            next_attempt_at=timezone.now())
        dispatch(delivery.pk)
        return
    trigger = f"redeliver:{by}"[:100]
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _pool.submit(_attempt_in_thread, delivery.pk, trigger)
        return
    from .tasks import redeliver_webhook

    redeliver_webhook.delay(delivery.pk, trigger)


def post(subscription, body):
    """POST `body` (bytes) signed for `subscription`; (status code or None, error text, ms)."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CSMS-Webhooks/1",
        SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
    }
    started = time.monotonic()
    try:
        response = httpx.post(subscription.url, content=body, headers=headers,
                              timeout=settings.WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False)
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:500], _ms_since(started)
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return response.status_code, error, _ms_since(started)


def _ms_since(started):
    return round((time.monotonic() - started) * 1000, 1)


def backoff_seconds(failed_attempts):
    """Wait before the next automatic try: WEBHOOK_BACKOFF_SECONDS doubled after each failure."""
    return settings.WEBHOOK_BACKOFF_SECONDS * 2 ** max(failed_attempts - 1, 0)


def _post_and_record(delivery, trigger):
    started_at = timezone.now()
    status_code, error, duration_ms = post(delivery.subscription, delivery.body.encode())
    number = delivery.attempts + 1
    attempt = WebhookAttempt.objects.create(
        delivery=delivery, number=number, started_at=started_at, status_code=status_code,
        error=error, duration_ms=duration_ms, trigger=trigger)
    fields = {"attempts": number, "last_status_code": status_code, "last_error": error}
    retry_in = None
    if attempt.succeeded:
        fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now(),
                      next_attempt_at=None)
    elif trigger == "retry" and number < settings.WEBHOOK_MAX_ATTEMPTS:
        retry_in = backoff_seconds(number)
        fields.update(status=WebhookDelivery.Status.PENDING,
                      next_attempt_at=timezone.now() + timedelta(seconds=retry_in))
    else:
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    if retry_in is not None:
        dispatch(delivery.pk, retry_in)
    return attempt


def sweep_due(now=None):
    """The beat: dispatch every pending delivery that is due (its scheduled retry was lost with
    a process or the broker, or a claim expired). Returns how many."""
    now = now or timezone.now()
    due = list(WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now,
    ).order_by("next_attempt_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    for delivery_pk in due:
        dispatch(delivery_pk)
    return len(due)
