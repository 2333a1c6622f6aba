from django.urls import path

from . import views

app_name = "smartcharging"
urlpatterns = [
    path("stations/<str:identity>/charging-profiles/new/", views.profile_editor,
         name="profile-new"),
    path("stations/<str:identity>/charging-profiles/<int:pk>/clear/", views.profile_clear,
         name="profile-clear"),
    path("stations/<str:identity>/composite-schedules/", views.station_composites,
         name="composites"),
    path("stations/<str:identity>/composite-schedules/station/", views.station_composite,
         name="station-composite"),
    path("sites/", views.site_list, name="sites"),
    path("sites/<int:pk>/", views.site_detail, name="site"),
]
