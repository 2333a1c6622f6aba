from django.core.exceptions import FieldDoesNotExist
from rest_framework import serializers

from csms.models import Command, MessageLogEntry


# OCPP's integers (ids, evse and connector numbers) are 32-bit, as are the columns that store them.
INTEGER_MAX = 2**31 - 1


class ModelSerializer(serializers.ModelSerializer):
    """DRF's, with read-only choice fields keeping the model's blank/null in the schema: a
    never-connected station's `ocpp_version` is "", which the schema's enum must admit."""

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            if not (isinstance(field, serializers.ChoiceField) and field.read_only):
                continue
            try:
                model_field = self.Meta.model._meta.get_field(field.source or name)
            except FieldDoesNotExist:
                continue
            field.allow_blank = field.allow_blank or model_field.blank
            field.allow_null = field.allow_null or model_field.null
        return fields


class CommandSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:command-detail")
    duration_ms = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Command
        fields = [
            "id", "url", "identity", "ocpp_version", "action", "payload", "status", "message_id",
            "response", "error_code", "error_description", "source", "created_at", "sent_at",
            "finished_at", "duration_ms",
        ]
        read_only_fields = fields


class CommandRequestSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=64)
    payload = serializers.JSONField(default=dict)
    wait = serializers.FloatField(
        required=False, default=0, min_value=0,
        help_text="Seconds to wait for the station's answer (0: return at once).",
    )


class MessageLogEntrySerializer(ModelSerializer):
    class Meta:
        model = MessageLogEntry
        fields = [
            "id", "identity", "timestamp", "direction", "message_type", "message_id", "action",
            "frame", "outcome", "duration_ms", "connection_id",
        ]
        read_only_fields = fields
