"""{% display_messages_panel station %} for the station page and
{% transaction_display_messages transaction %} for a transaction's page."""
from django import template

from ..models import DisplayMessage
from ..views import display

register = template.Library()


@register.inclusion_tag("stations/display_panel.html", takes_context=True)
def display_messages_panel(context, station):
    return {**display.panel(station), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("stations/display_transaction.html")
def transaction_display_messages(transaction):
    """Messages sent for this transaction (any object with station_id and transaction_id)."""
    return {"display_messages": DisplayMessage.objects.filter(
        station_id=transaction.station_id, transaction_id=transaction.transaction_id)}
