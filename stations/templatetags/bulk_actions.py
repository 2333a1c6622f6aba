"""The station list's bulk-action bar: {% bulk_bar matching_count query %} (actions and their
options from the bulk-action registry)."""
from django import template

from ..actions import bulk

register = template.Library()


@register.inclusion_tag("stations/bulk_bar.html")
def bulk_bar(matching_count, query):
    actions = list(bulk.registered().values())
    return {"actions": actions, "matching_count": matching_count, "query": query}
