"""Smart-charging endpoints for the shared router in csms/api/urls.py."""
from . import views

# (prefix, viewset, basename)
router_registrations = [
    ("charging-profiles", views.ChargingProfileViewSet, "charging-profile"),
    ("charging-profile-reports", views.ProfileReportViewSet, "charging-profile-report"),
    ("charging-limits", views.ChargingLimitViewSet, "charging-limit"),
    ("ev-charging-needs", views.EVChargingNeedsViewSet, "ev-charging-needs"),
    ("ev-charging-schedules", views.EVChargingScheduleViewSet, "ev-charging-schedule"),
]
