"""The station page's firmware panel reads its own rows, so the shared station view needs no
firmware code."""
from django import template

from ..views.firmware import station_panel_context

register = template.Library()


@register.simple_tag
def station_firmware(station):
    return station_panel_context(station)
