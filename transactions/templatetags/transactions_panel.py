"""{% station_charging station as charging %}: what the station page's charging card shows."""
from django import template

from transactions.models import Reservation, Transaction

register = template.Library()


@register.simple_tag
def station_charging(station):
    transactions = Transaction.objects.filter(station=station)
    return {
        "active": list(transactions.filter(state=Transaction.State.ACTIVE)[:10]),
        "recent": list(transactions.filter(state=Transaction.State.ENDED)[:5]),
        "reservations": list(Reservation.objects.filter(
            station=station, status__in=Reservation.OPEN).select_related("id_token")[:5]),
    }
