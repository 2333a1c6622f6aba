"""Dashboard URLs of webhooks (included from csms/urls.py)."""
from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("webhooks/", views.subscription_list, name="list"),
    path("webhooks/<int:pk>/", views.subscription_detail, name="detail"),
    path("webhooks/<int:pk>/delete/", views.subscription_delete, name="delete"),
    path("webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/", views.delivery_redeliver,
         name="redeliver"),
]
