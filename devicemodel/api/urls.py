"""Station-scoped device-model endpoints, included under /api/v1/ (names live in the api namespace)."""
from django.urls import path, re_path

from . import views

STATION = r"^stations/(?P<identity>[^/]+)/"

urlpatterns = [
    path("stations/<str:identity>/components/", views.ComponentTreeView.as_view(),
         name="station-components"),
    re_path(STATION + r"variables/get/?$", views.VariablesGetView.as_view(),
            name="station-variables-get"),
    re_path(STATION + r"variables/set/?$", views.VariablesSetView.as_view(),
            name="station-variables-set"),
    path("stations/<str:identity>/variables/requests/", views.VariableRequestListView.as_view(),
         name="station-variable-requests"),
    path("stations/<str:identity>/variables/requests/<int:pk>/",
         views.VariableRequestDetailView.as_view(), name="station-variable-request"),
    path("stations/<str:identity>/variables/changes/", views.ValueChangeListView.as_view(),
         name="station-value-changes"),
    path("stations/<str:identity>/reports/", views.ReportListView.as_view(),
         name="station-reports"),
    path("stations/<str:identity>/reports/<int:request_id>/", views.ReportDetailView.as_view(),
         name="station-report"),
    path("stations/<str:identity>/monitors/", views.MonitorListView.as_view(),
         name="station-monitors"),
    re_path(STATION + r"monitors/clear/?$", views.MonitorClearView.as_view(),
            name="station-monitors-clear"),
    re_path(STATION + r"monitors/base/?$", views.MonitoringBaseView.as_view(),
            name="station-monitoring-base"),
    re_path(STATION + r"monitors/level/?$", views.MonitoringLevelView.as_view(),
            name="station-monitoring-level"),
    path("stations/<str:identity>/events/", views.StationEventListView.as_view(),
         name="station-events"),
]

# ViewSets for the shared router in csms/api/urls.py: (prefix, viewset, basename).
router_registrations = [
    ("events", views.EventViewSet, "event"),
    ("provisioning-policies", views.ProvisioningPolicyViewSet, "provisioning-policy"),
    ("provisioning-runs", views.ProvisioningRunViewSet, "provisioning-run"),
]
