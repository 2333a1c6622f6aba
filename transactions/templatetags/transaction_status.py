"""{% transaction_status_panel transaction %}: the transaction page's GetTransactionStatus panel
(2.0.1 E14): what the station answered, and a button to ask it now."""
from django import template

register = template.Library()
PANEL_ROWS = 10


@register.inclusion_tag("transactions/transaction_status_panel.html", takes_context=True)
def transaction_status_panel(context, transaction):
    return {
        "transaction": transaction,
        "status_requests": list(transaction.status_requests.all()[:PANEL_ROWS]),
        "can_ask": transaction.ocpp_version == "2.0.1",
        "csrf_token": context.get("csrf_token"),
    }
