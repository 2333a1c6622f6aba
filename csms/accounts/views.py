"""Dashboard page of your API tokens: the list, a form to issue one (its secret shown on the
answer page only) and revoke."""
import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from csms import roles

from .api import issue_token, revoke_token
from .models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. billing export.")
    expires_in_days = forms.IntegerField(
        label="Expires in (days)", min_value=1, max_value=3650, required=False,
        help_text="Blank: never expires (revoke it when no longer needed).")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the token a name.")
        return name


@login_required
def token_list(request):
    form = ApiTokenForm(request.POST or None)
    issued_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            days = form.cleaned_data["expires_in_days"]
            expires_at = timezone.now() + datetime.timedelta(days=days) if days else None
            token, issued_key = issue_token(request.user, form.cleaned_data["name"], expires_at)
            messages.success(request, f"API token {token.name} created: copy it now, it is "
                                      "never shown again.")
            form = ApiTokenForm()
        else:
            status = 400
    tokens = ApiToken.objects.filter(user=request.user).order_by("-id")
    return render(request, "accounts/token_list.html",
                  {"tokens": tokens, "form": form, "issued_key": issued_key,
                   "user_role": roles.role_of(request.user)}, status=status)


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    revoke_token(token)
    messages.success(request, f"API token {token.name} revoked.")
    return redirect("accounts:tokens")
