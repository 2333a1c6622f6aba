"""Celery tasks of the stations app: thin wrappers around its actions and commands."""
from celery import shared_task


@shared_task(ignore_result=True)
def advance_firmware_campaign(campaign_pk):
    """Start a firmware campaign's next updates (after a change of state, target or station)."""
    from .actions import campaigns

    return campaigns.advance_campaign(campaign_pk)


@shared_task(ignore_result=True)
def advance_firmware_campaigns():
    """The beat's pass over every running firmware campaign."""
    from .actions import campaigns

    return campaigns.advance_running_campaigns()
