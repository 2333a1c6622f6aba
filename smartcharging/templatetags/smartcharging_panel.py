"""{% smart_charging_panel station %}: the station page's smart-charging panel."""
from django import template

from smartcharging import views

register = template.Library()


@register.inclusion_tag("smartcharging/_station_panel.html", takes_context=True)
def smart_charging_panel(context, station):
    return {**views.station_panel(station), "csrf_token": context.get("csrf_token")}
