"""Celery tasks of the protocol core: thin wrappers around the outbound-call service."""
from celery import shared_task

from csms import partitions
from csms.ocpp import bridge, messagelog, outbound


# The API nudges the station's holder itself; this task only runs when that nudge could not be
# sent. Redis down: try again after 1, 2, 4, 8, 16 s; after that (or if the broker is down too, so
# the retry cannot be queued) the sweep nudges the station again once Redis is back.
@shared_task(name=outbound.DELIVERY_TASK, ignore_result=True,
             autoretry_for=(bridge.ChannelLayerUnavailable,), max_retries=5,
             retry_backoff=1, retry_backoff_max=16, retry_jitter=False)
def deliver_command(command_id):
    outbound.dispatch(command_id)


@shared_task(ignore_result=True)
def send_command(identity, ocpp_version, action, payload, source="task"):
    """Queue and deliver any CSMS -> station call (for other tasks and beat schedules)."""
    return outbound.send_call(identity, ocpp_version, action, payload, source=source).pk


@shared_task(ignore_result=True)
def sweep_commands():
    return outbound.sweep()


# Kept for beat schedules of older deployments; maintain_partitions applies this retention too.
@shared_task(ignore_result=True)
def purge_message_log():
    return messagelog.purge()


@shared_task(ignore_result=True)
def maintain_partitions():
    return partitions.maintain()
