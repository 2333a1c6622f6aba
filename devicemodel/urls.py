from django.urls import path

from . import views

app_name = "devicemodel"
urlpatterns = [
    path("stations/<str:identity>/device-model/", views.device_model, name="browser"),
    path("alerts/", views.alerts, name="alerts"),
]
