"""Dashboard URLs of accounts (included from csms/urls.py)."""
from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("accounts/tokens/", views.token_list, name="tokens"),
    path("accounts/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
