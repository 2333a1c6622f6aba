from django.urls import path

from . import views, views_customer, views_reservations, views_status

app_name = "transactions"
urlpatterns = [
    path("transactions/", views.transaction_list, name="list"),
    path("transactions/export.csv", views.transaction_export, name="export"),
    path("transactions/<int:pk>/", views.transaction_detail, name="detail"),
    path("transactions/<int:pk>/close/", views.transaction_close, name="close"),
    path("transactions/<int:pk>/status-request/", views_status.transaction_status_request,
         name="status-request"),
    path("id-tokens/", views.token_list, name="tokens"),
    path("id-tokens/<int:pk>/erase/", views_customer.token_erase, name="token-erase"),
    path("customer-information/", views_customer.customer_information_list,
         name="customer-information"),
    path("customer-information/<int:pk>/", views_customer.customer_information_detail,
         name="customer-information-detail"),
    path("customer-information/<int:pk>/download/", views_customer.customer_information_download,
         name="customer-information-download"),
    path("transactions/stations/<str:identity>/control/", views.station_control,
         name="station-control"),
    path("transactions/stations/<str:identity>/reservations/",
         views_reservations.station_reservations, name="station-reservations"),
    path("transactions/stations/<str:identity>/reservations/<str:operation>/",
         views_reservations.station_reservation_command, name="reservation-command"),
    path("transactions/stations/<str:identity>/local-list/",
         views_reservations.station_local_list, name="station-local-list"),
    path("transactions/stations/<str:identity>/local-list/<str:operation>/",
         views_reservations.station_local_list_command, name="local-list-command"),
]
