"""Dashboard URL of the audit trail (included from csms/urls.py)."""
from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [path("audit/", views.audit_list, name="list")]
