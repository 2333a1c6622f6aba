"""/api/v1/: every app's endpoints on one router, plus the OpenAPI schema and its docs."""
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from csms.accounts.api import ApiTokenViewSet, UserViewSet
from csms.audit.api import AuditEntryViewSet
from csms.webhooks.api import WebhookSubscriptionViewSet
from devicemodel.api import urls as devicemodel_urls
from smartcharging.api import urls as smartcharging_urls
from stations.api import urls as stations_urls
from stations.api.views import StationViewSet
from transactions.api.customer import CustomerInformationViewSet
from transactions.api.pnc import TrustedRootViewSet
from transactions.api.transaction_status import TransactionStatusRequestViewSet
from transactions.api.views import (
    IdTokenViewSet, LocalListViewSet, ReservationViewSet, TariffViewSet, TransactionViewSet,
)

from .views import CommandViewSet

router = DefaultRouter()
router.register("stations", StationViewSet, basename="station")
router.register("commands", CommandViewSet, basename="command")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")
router.register("api-tokens", ApiTokenViewSet, basename="api-token")
router.register("users", UserViewSet, basename="user")
router.register("audit", AuditEntryViewSet, basename="audit")
router.register("id-tokens", IdTokenViewSet, basename="id-token")
router.register("transactions", TransactionViewSet, basename="transaction")
router.register("tariffs", TariffViewSet, basename="tariff")
router.register("reservations", ReservationViewSet, basename="reservation")
router.register("local-lists", LocalListViewSet, basename="local-list")
router.register("customer-information", CustomerInformationViewSet, basename="customer-information")
router.register("transaction-status-requests", TransactionStatusRequestViewSet,
                basename="transaction-status-request")
router.register("trusted-roots", TrustedRootViewSet, basename="trusted-root")
for prefix, viewset, basename in (devicemodel_urls.router_registrations
                                  + smartcharging_urls.router_registrations
                                  + stations_urls.router_registrations):
    router.register(prefix, viewset, basename=basename)

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("token/", obtain_auth_token, name="token"),
] + (devicemodel_urls.urlpatterns + smartcharging_urls.urlpatterns + stations_urls.urlpatterns
     + router.urls)
