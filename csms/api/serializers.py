from rest_framework import serializers

from csms.models import Command, MessageLogEntry


class CommandSerializer(serializers.ModelSerializer):
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


class MessageLogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageLogEntry
        fields = [
            "id", "identity", "timestamp", "direction", "message_type", "message_id", "action",
            "frame", "outcome", "duration_ms", "connection_id",
        ]
        read_only_fields = fields
