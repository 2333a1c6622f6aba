"""The webhooks API: subscriptions (/api/v1/webhooks/), each one's delivery log with every
attempt, and redelivery of one delivery."""
import json

from django.core.validators import URLValidator
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from csms import roles
from csms.api.serializers import ModelSerializer

from . import delivery as webhook_delivery
from .models import EVENT_TYPE_NAMES, WebhookAttempt, WebhookDelivery, WebhookSubscription


class WebhookSubscriptionSerializer(ModelSerializer):
    url = serializers.CharField(
        max_length=500, validators=[URLValidator(schemes=["http", "https"])],
        help_text="Where events are POSTed (http or https).")
    secret = serializers.CharField(
        min_length=16, max_length=128, required=False,
        help_text="Key of the HMAC-SHA256 signature (X-CSMS-Signature); made up when not given.")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPE_NAMES), allow_empty=False,
        max_length=len(EVENT_TYPE_NAMES), help_text="The event types to deliver.")

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "secret", "event_types", "active", "description", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_event_types(self, event_types):
        return [name for name in EVENT_TYPE_NAMES if name in event_types]  # catalogue order, once


class WebhookAttemptSerializer(ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "status_code", "error", "duration_ms", "trigger"]
        read_only_fields = fields


class WebhookDeliverySerializer(ModelSerializer):
    payload = serializers.SerializerMethodField()
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "event_type", "status", "attempts", "next_attempt_at",
                  "last_status_code", "last_error", "created_at", "delivered_at", "payload",
                  "attempt_log"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_payload(self, delivery):
        return json.loads(delivery.body)


DELIVERY_STATUS = OpenApiParameter(
    "status", str, enum=WebhookDelivery.Status.values,
    description="Only deliveries in this state.")


class WebhookSubscriptionViewSet(viewsets.ModelViewSet):
    """Webhook subscriptions: events of the chosen types POSTed as signed JSON
    ({id, type, created_at, data}; header X-CSMS-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
    "<t>.<body>">), retried with exponential backoff."""

    # Settings that hold signing secrets: administrators only, as on the dashboard.
    required_role = roles.ADMINISTRATOR

    queryset = WebhookSubscription.objects.all()
    serializer_class = WebhookSubscriptionSerializer
    ordering_fields = ["id", "created_at"]
    filterset_fields = ["active"]

    @extend_schema(parameters=[DELIVERY_STATUS],
                   responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"], filterset_fields=[], ordering_fields=[])
    def deliveries(self, request, pk=None):
        """The subscription's delivery log, newest first, each with its attempts."""
        subscription = self.get_object()
        deliveries = subscription.deliveries.prefetch_related("attempt_log")
        wanted = request.query_params.get("status")
        if wanted is not None:
            if wanted not in WebhookDelivery.Status.values:
                raise serializers.ValidationError(
                    {"status": [f"One of {', '.join(WebhookDelivery.Status.values)}."]})
            deliveries = deliveries.filter(status=wanted)
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_pk>[0-9]+)/redeliver")
    def redeliver(self, request, pk=None, delivery_pk=None):
        """Send one delivery again now (one attempt, in a worker; same event id). Answers at once:
        read the delivery log for the outcome."""
        subscription = self.get_object()
        delivery = get_object_or_404(WebhookDelivery, pk=delivery_pk, subscription=subscription)
        webhook_delivery.redeliver(delivery, by=f"api:{request.user.username}")
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
