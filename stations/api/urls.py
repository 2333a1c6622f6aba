"""Station-operation endpoints (firmware, logs, display messages, ...) for the shared router in
csms/api/urls.py; the station viewset itself is registered there."""
from django.urls import path

from .overview import OverviewView

urlpatterns = [path("overview/", OverviewView.as_view(), name="overview")]

# (prefix, viewset, basename)
router_registrations = []

from .firmware import FirmwareImageViewSet, FirmwarePublicationViewSet, FirmwareUpdateViewSet  # noqa: E402
router_registrations += [("firmware-images", FirmwareImageViewSet, "firmware-image"),
                         ("firmware-updates", FirmwareUpdateViewSet, "firmware-update"),
                         ("firmware-publications", FirmwarePublicationViewSet,
                          "firmware-publication")]

from .campaigns import FirmwareCampaignViewSet, StationTagViewSet  # noqa: E402
router_registrations += [("firmware-campaigns", FirmwareCampaignViewSet, "firmware-campaign"),
                         ("station-tags", StationTagViewSet, "station-tag")]

from .display import DisplayMessageReportViewSet, DisplayMessageViewSet  # noqa: E402
router_registrations += [("display-messages", DisplayMessageViewSet, "display-message"),
                         ("display-message-reports", DisplayMessageReportViewSet,
                          "display-message-report")]

from .logs import LogRequestViewSet  # noqa: E402
router_registrations += [("log-requests", LogRequestViewSet, "log-request")]

from .operations import DataTransferViewSet, NetworkProfileViewSet  # noqa: E402
router_registrations += [("data-transfers", DataTransferViewSet, "data-transfer"),
                         ("network-profiles", NetworkProfileViewSet, "network-profile")]

from .alerts import AlertViewSet  # noqa: E402
router_registrations += [("alerts", AlertViewSet, "alert")]

from .bulk import BulkOperationViewSet  # noqa: E402
router_registrations += [("bulk-operations", BulkOperationViewSet, "bulk-operation")]

from .certificates import (CertificateAuthorityView, CertificateSigningRequestViewSet,  # noqa: E402
                           StationCertificateViewSet)
urlpatterns += [path("certificate-authority/", CertificateAuthorityView.as_view(),
                     name="certificate-authority")]
router_registrations += [("station-certificates", StationCertificateViewSet, "station-certificate"),
                         ("certificate-signing-requests", CertificateSigningRequestViewSet,
                          "certificate-signing-request")]

from .security import LoginFailureViewSet, PasswordRotationViewSet, SecurityEventViewSet  # noqa: E402
router_registrations += [("security-events", SecurityEventViewSet, "security-event"),
                         ("login-failures", LoginFailureViewSet, "login-failure"),
                         ("password-rotations", PasswordRotationViewSet, "password-rotation")]

from .profile_upgrade import SecurityProfileUpgradeViewSet  # noqa: E402
router_registrations += [("security-profile-upgrades", SecurityProfileUpgradeViewSet,
                          "security-profile-upgrade")]
