"""Celery tasks of webhooks: one attempt of a delivery, an operator's redeliver, the due sweep."""
from celery import shared_task

from . import delivery


@shared_task(ignore_result=True)
def deliver_webhook(delivery_pk):
    delivery.attempt_due(delivery_pk)


@shared_task(ignore_result=True)
def redeliver_webhook(delivery_pk, trigger):
    delivery.attempt_now(delivery_pk, trigger)


@shared_task(ignore_result=True)
def retry_due_webhooks():
    return delivery.sweep_due()
