"""{% local_list_selection station as text %}: the token values the station's CSMS-side local
list is built from, one a line (empty: every token), for the local-list panel's form."""
from django import template

from transactions.models import IdToken, LocalList

register = template.Library()


@register.simple_tag
def local_list_selection(station):
    selection = LocalList.objects.filter(station=station).values_list("selection", flat=True).first()
    if not selection:
        return ""
    return "\n".join(IdToken.objects.filter(pk__in=selection).order_by("id_token")
                     .values_list("id_token", flat=True))
