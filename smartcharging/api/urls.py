"""Smart-charging endpoints for the shared router in csms/api/urls.py."""
from django.urls import path

from . import composite, sites, views

# Station-scoped endpoints, included under /api/v1/ (names live in the api namespace).
urlpatterns = [
    path("stations/<str:identity>/composite-schedule/",
         composite.StationCompositeScheduleView.as_view(), name="station-composite-schedule"),
]

# (prefix, viewset, basename)
router_registrations = [
    ("charging-profiles", views.ChargingProfileViewSet, "charging-profile"),
    ("charging-profile-reports", views.ProfileReportViewSet, "charging-profile-report"),
    ("charging-limits", views.ChargingLimitViewSet, "charging-limit"),
    ("ev-charging-needs", views.EVChargingNeedsViewSet, "ev-charging-needs"),
    ("ev-charging-schedules", views.EVChargingScheduleViewSet, "ev-charging-schedule"),
    ("sites", sites.SiteViewSet, "site"),
]
