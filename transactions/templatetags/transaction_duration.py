"""{{ tx|session_duration }} and {{ seconds|duration }}: a session's length as the list shows it."""
from django import template

from transactions.totals import duration_seconds, format_duration

register = template.Library()


@register.filter
def session_duration(transaction):
    return format_duration(duration_seconds(transaction))


@register.filter
def duration(seconds):
    return format_duration(seconds)
