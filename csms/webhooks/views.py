"""Dashboard pages of webhooks (staff only: they show the signing secrets): the subscriptions with
a form to add one, and a subscription's page with its delivery log and Redeliver."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.validators import URLValidator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import delivery as webhook_delivery
from .models import EVENT_TYPES, WebhookDelivery, WebhookSubscription

DELIVERIES_PER_PAGE = 50


class SubscriptionForm(forms.ModelForm):
    url = forms.CharField(label="URL", max_length=500,
                          validators=[URLValidator(schemes=["http", "https"])])
    event_types = forms.MultipleChoiceField(choices=EVENT_TYPES, label="Events",
                                            widget=forms.CheckboxSelectMultiple)
    secret = forms.CharField(min_length=16, max_length=128, required=False,
                             help_text="Blank: one is made up.")

    class Meta:
        model = WebhookSubscription
        fields = ["url", "description", "event_types", "secret", "active"]

    def clean_secret(self):
        # Blank keeps the current secret (a new subscription's is made up by the model).
        return self.cleaned_data["secret"] or self.instance.secret


def _require_operator(request):
    if not request.user.is_staff:
        raise PermissionDenied("Only operators (staff users) may manage webhooks.")


@login_required
def subscription_list(request):
    _require_operator(request)
    form = SubscriptionForm(request.POST or None, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        subscription = form.save()
        messages.success(request, f"Webhook {subscription.url} added.")
        return redirect("webhooks:detail", pk=subscription.pk)
    subscriptions = WebhookSubscription.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.DELIVERED)),
        pending=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED)))
    return render(request, "webhooks/subscription_list.html",
                  {"subscriptions": subscriptions, "form": form})


@login_required
def subscription_detail(request, pk):
    _require_operator(request)
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    form = SubscriptionForm(request.POST or None, instance=subscription)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Webhook saved.")
        return redirect("webhooks:detail", pk=pk)
    status = request.GET.get("status", "")
    deliveries = subscription.deliveries.prefetch_related("attempt_log")
    if status in WebhookDelivery.Status.values:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "webhooks/subscription_detail.html", {
        "subscription": subscription, "form": form, "page": page, "status": status,
        "statuses": WebhookDelivery.Status.values})


@login_required
@require_POST
def subscription_delete(request, pk):
    _require_operator(request)
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    subscription.delete()
    messages.success(request, f"Webhook {subscription.url} deleted.")
    return redirect("webhooks:list")


@login_required
@require_POST
def delivery_redeliver(request, pk, delivery_pk):
    _require_operator(request)
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_pk, subscription_id=pk)
    webhook_delivery.redeliver(delivery, by=f"dashboard:{request.user.username}")
    messages.success(request, f"Delivery {delivery.pk} ({delivery.event_type}) is being sent again.")
    return redirect("webhooks:detail", pk=pk)
