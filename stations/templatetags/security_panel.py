"""{% station_security_panel station %}: the station page's security events, failed logins and
password rotation."""
from django import template

from ..views import security

register = template.Library()


@register.inclusion_tag("stations/security_panel_body.html", takes_context=True)
def station_security_panel(context, station):
    return {**security.panel(station), "csrf_token": context.get("csrf_token")}
