"""Template helpers of the device model: severity names and the station page's panel."""
from django import template
from django.db.models import F

from devicemodel import actions
from devicemodel.models import Report, Variable, VariableMonitor

register = template.Library()

# OCPP 2.0.1 severity levels, 0 the most severe.
SEVERITY_NAMES = ["Danger", "Hardware Failure", "System Failure", "Critical", "Error", "Alert",
                  "Warning", "Notice", "Informational", "Debug"]


@register.filter
def severity_name(severity):
    if severity is None or not 0 <= severity < len(SEVERITY_NAMES):
        return "unknown"
    return f"{severity} {SEVERITY_NAMES[severity]}"


@register.inclusion_tag("devicemodel/_panel.html")
def device_model_panel(station):
    return {
        "station": station,
        "variable_count": Variable.objects.filter(station=station).count(),
        "monitor_count": VariableMonitor.objects.filter(station=station).count(),
        "last_report": Report.objects.filter(station=station).first(),
        "alerts": list(actions.active_alerts().filter(station=station)
                       .select_related("variable__component")
                       .order_by(F("severity").asc(nulls_last=True), "-timestamp")[:5]),
        "alert_count": actions.active_alerts().filter(station=station).count(),
    }
