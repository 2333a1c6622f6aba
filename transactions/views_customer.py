"""Dashboard: erasing an id token's personal data (a data-protection request), staff only."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from .actions import InvalidRequest, customer_data
from .models import IdToken


@login_required
@require_POST
def token_erase(request, pk):
    if not request.user.is_staff:
        raise PermissionDenied("Only operators (staff users) may erase a customer's data.")
    token = get_object_or_404(IdToken, pk=pk)
    try:
        erasure = customer_data.erase_id_token(
            token, request.user.get_username(), request.POST.get("reason", "")[:500],
            clear_at_stations=request.POST.get("clear_at_stations") == "on",
            source=f"dashboard:{request.user.username}")
    except InvalidRequest as error:
        messages.error(request, f"Not erased: {error}")
    else:
        sent = len(erasure.erased.get("station_requests", []))
        messages.success(request, f"Token #{token.pk} erased: now {erasure.pseudonym}; "
                                  f"{erasure.erased['transactions']} transaction(s) keep their "
                                  f"billing data" + (f"; {sent} station(s) asked to clear" if sent
                                                     else ""))
    return redirect("transactions:tokens")
