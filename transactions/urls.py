from django.urls import path

from . import views, views_customer

app_name = "transactions"
urlpatterns = [
    path("transactions/", views.transaction_list, name="list"),
    path("transactions/export.csv", views.transaction_export, name="export"),
    path("transactions/<int:pk>/", views.transaction_detail, name="detail"),
    path("transactions/<int:pk>/close/", views.transaction_close, name="close"),
    path("id-tokens/", views.token_list, name="tokens"),
    path("id-tokens/<int:pk>/erase/", views_customer.token_erase, name="token-erase"),
    path("transactions/stations/<str:identity>/control/", views.station_control,
         name="station-control"),
]
