"""{% station_profile_upgrade_panel station %}: the station page's security profile and its
upgrades (A05)."""
from django import template

from ..views import profile_upgrade

register = template.Library()


@register.inclusion_tag("stations/profile_upgrade_panel_body.html", takes_context=True)
def station_profile_upgrade_panel(context, station):
    return {**profile_upgrade.panel(station), "csrf_token": context.get("csrf_token")}
