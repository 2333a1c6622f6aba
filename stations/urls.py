from django.urls import path

from . import views
from .views import display as display_views
from .views import bulk as bulk_views
from .views import campaigns as campaign_views
from .views import datatransfer as datatransfer_views
from .views import firmware as firmware_views
from .views import logs as log_views
from .views import overview as overview_views
from .views import alerts as alert_views
from .views import security as security_views
from .views import profile_upgrade as profile_upgrade_views
from .views import certificates as certificate_views

app_name = "stations"
urlpatterns = [
    path("", overview_views.network_overview, name="overview"),
    path("favicon.ico", overview_views.favicon, name="favicon"),
    path("stations/", views.station_list, name="list"),
    path("counts/", views.station_counts, name="counts"),
    path("register-station/", views.station_register, name="register"),
    path("schemas/<str:ocpp_version>/<str:action>/", views.action_schema, name="action-schema"),
    path("stations/<str:identity>/", views.station_detail, name="detail"),
    path("stations/<str:identity>/log/", views.station_log, name="log"),
    path("stations/<str:identity>/commands/", views.station_commands, name="commands"),
    path("stations/<str:identity>/charging/", views.station_charging, name="charging"),
    path("stations/<str:identity>/reset/", views.station_reset, name="reset"),
    path("stations/<str:identity>/trigger-message/", views.station_trigger, name="trigger"),
    path("stations/<str:identity>/send/", views.station_send, name="send"),
    path("stations/<str:identity>/registration-policy/", views.station_registration_policy,
         name="registration-policy"),
    path("stations/<str:identity>/display-messages/", display_views.display_message_add, name="display-add"),
    path("stations/<str:identity>/display-messages/get/", display_views.display_message_refresh,
         name="display-refresh"),
    path("stations/<str:identity>/display-messages/<int:pk>/clear/",
         display_views.display_message_clear, name="display-clear"),
    path("firmware/", firmware_views.firmware_images, name="firmware"),
    path("firmware/images/<int:pk>/delete/", firmware_views.firmware_image_delete,
         name="firmware-image-delete"),
    path("firmware/images/<int:pk>/publish/", firmware_views.firmware_publish,
         name="firmware-publish"),
    path("firmware/publications/<int:pk>/unpublish/", firmware_views.firmware_unpublish,
         name="firmware-unpublish"),
    path("firmware/<str:token>/<str:filename>", firmware_views.firmware_download,
         name="firmware-download"),
    path("stations/<str:identity>/firmware-update/", firmware_views.station_firmware_update,
         name="firmware-update"),
    path("stations/<str:identity>/firmware/", firmware_views.station_firmware_panel,
         name="firmware-panel"),
    path("logs/upload/<str:token>/", log_views.log_upload, name="logs-upload"),
    path("logs/upload/<str:token>/<str:file_name>", log_views.log_upload, name="logs-upload-named"),
    path("logs/<int:pk>/download/", log_views.log_download, name="logs-download"),
    path("stations/<str:identity>/logs/", log_views.station_logs, name="logs"),
    path("stations/<str:identity>/logs/request/", log_views.station_log_request,
         name="logs-request"),
    path("stations/<str:identity>/data-transfers/", datatransfer_views.station_data_transfers,
         name="datatransfers"),
    path("stations/<str:identity>/data-transfers/<int:pk>/", datatransfer_views.data_transfer_detail,
         name="datatransfer"),
    path("stations/<str:identity>/data-transfers/send/",
         datatransfer_views.station_data_transfer_send, name="datatransfer-send"),
    path("stations/<str:identity>/network-profile/", datatransfer_views.station_network_profile,
         name="network-profile"),
    path("firmware-campaigns/", campaign_views.campaign_list, name="campaigns"),
    path("firmware-campaigns/<int:pk>/", campaign_views.campaign_detail, name="campaign"),
    path("firmware-campaigns/<int:pk>/progress/", campaign_views.campaign_progress,
         name="campaign-progress"),
    path("firmware-campaigns/<int:pk>/<str:operation>/", campaign_views.campaign_control,
         name="campaign-control"),
    path("stations/<str:identity>/campaigns/", campaign_views.campaign_station_panel,
         name="campaign-station-panel"),
    path("bulk-operations/", bulk_views.bulk_list, name="bulk-list"),
    path("bulk-operations/confirm/", bulk_views.bulk_confirm, name="bulk-confirm"),
    path("bulk-operations/start/", bulk_views.bulk_create, name="bulk-create"),
    path("bulk-operations/<int:pk>/", bulk_views.bulk_detail, name="bulk"),
    path("bulk-operations/<int:pk>/progress/", bulk_views.bulk_progress, name="bulk-progress"),
    path("operational-alerts/", alert_views.alert_list, name="alerts"),
    path("operational-alerts/rows/", alert_views.alert_rows, name="alert-rows"),
    path("operational-alerts/<int:pk>/acknowledge/", alert_views.alert_acknowledge,
         name="alert-acknowledge"),
    path("security-events/", security_views.security_log, name="security-log"),
    path("stations/<str:identity>/security-profile-upgrade/",
         profile_upgrade_views.station_profile_upgrade, name="profile-upgrade"),
    path("stations/<str:identity>/rotate-password/", security_views.station_rotate_password,
         name="password-rotate"),
    path("certificates/", certificate_views.network_certificates, name="certificates-network"),
    path("certificates/ca/<str:which>", certificate_views.ca_certificate_download, name="ca-download"),
    path("stations/<str:identity>/certificates/", certificate_views.station_certificates,
         name="certificates"),
    path("stations/<str:identity>/certificates/<str:operation>/",
         certificate_views.station_certificate_command, name="certificate-command"),
]
