from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from csms.health import healthz
from csms.metrics import metrics_view

# JSON under /api/ when an exception escapes outside any view; Django's page elsewhere.
handler500 = "csms.api.errors.server_error"

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("csms.api.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("transactions.urls")),
    path("", include("devicemodel.urls")),
    path("", include("smartcharging.urls")),
    path("", include("stations.urls")),
    path("", include("csms.webhooks.urls")),
    path("", include("csms.accounts.urls")),
    path("", include("csms.audit.urls")),
]
