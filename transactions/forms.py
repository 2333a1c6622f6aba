from django import forms

from .models import IdToken


class IdTokenForm(forms.ModelForm):
    class Meta:
        model = IdToken
        # The group is set through the API, admin or CSV import (a select of every token would not scale).
        fields = ["id_token", "type", "status", "expires_at", "language",
                  "personal_message", "charging_priority", "allow_concurrent_transactions",
                  "spending_limit", "description"]
        widgets = {"expires_at": forms.DateTimeInput(attrs={"placeholder": "2026-12-31 23:59"})}


class IdTokenImportForm(forms.Form):
    file = forms.FileField(label="CSV file")
