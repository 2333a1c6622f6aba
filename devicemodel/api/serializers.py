"""Request and answer shapes of the device-model API. Items use OCPP's own JSON shape
(component / variable / attributeType / attributeValue), so they read like the specification."""
from rest_framework import serializers

from csms.api.serializers import INTEGER_MAX, ModelSerializer
from devicemodel.models import (
    REPORT_BASES, AttributeType, Event, MonitorType, ProvisioningPolicy, ProvisioningRun, Report,
    VariableMonitor, VariableRequest, VariableRequestItem, VariableValueChange,
)
from devicemodel.values import check_item_shapes, component_dict, variable_dict


class EvseAddressSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX)
    connectorId = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, required=False)


class ComponentAddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    instance = serializers.CharField(max_length=50, required=False)
    evse = EvseAddressSerializer(required=False)


class VariableAddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    instance = serializers.CharField(max_length=50, required=False)


class GetItemSerializer(serializers.Serializer):
    component = ComponentAddressSerializer(
        required=False, help_text="Required on OCPP 2.0.1; on 1.6 the variable name is the key.")
    variable = VariableAddressSerializer()
    attributeType = serializers.ChoiceField(choices=AttributeType.values, required=False)


class SetItemSerializer(GetItemSerializer):
    attributeValue = serializers.CharField(max_length=1000, allow_blank=True, trim_whitespace=False)


class WaitSerializer(serializers.Serializer):
    wait = serializers.FloatField(
        required=False, default=0, min_value=0,
        help_text="Seconds to wait for the station's answers (0: return at once).")


class VariablesGetRequestSerializer(WaitSerializer):
    items = GetItemSerializer(many=True, allow_empty=False)


class VariablesSetRequestSerializer(WaitSerializer):
    items = SetItemSerializer(many=True, allow_empty=False)


class ComponentVariableSerializer(serializers.Serializer):
    component = ComponentAddressSerializer()
    variable = VariableAddressSerializer(required=False)


class ReportRequestSerializer(WaitSerializer):
    kind = serializers.ChoiceField(
        choices=REPORT_BASES + [Report.Kind.CUSTOM, Report.Kind.MONITORING],
        help_text="A base report, CustomReport (GetReport) or MonitoringReport; on 1.6 every "
                  "inventory kind reads the configuration keys (GetConfiguration).")
    component_variables = ComponentVariableSerializer(many=True, required=False)
    component_criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=["Active", "Available", "Enabled", "Problem"]),
        required=False, max_length=4)
    monitoring_criteria = serializers.ListField(
        child=serializers.ChoiceField(
            choices=["ThresholdMonitoring", "DeltaMonitoring", "PeriodicMonitoring"]),
        required=False, max_length=3)


class MonitorItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=0, max_value=INTEGER_MAX,
                                  help_text="Replace this existing monitor.")
    component = ComponentAddressSerializer()
    variable = VariableAddressSerializer()
    type = serializers.ChoiceField(choices=MonitorType.values)
    value = serializers.FloatField()
    severity = serializers.IntegerField(min_value=0, max_value=9,
                                        help_text="0 Danger, 1 HardwareFailure ... 9 Debug.")
    transaction = serializers.BooleanField(required=False, default=False)


class MonitorsSetRequestSerializer(WaitSerializer):
    monitors = MonitorItemSerializer(many=True, allow_empty=False)


class MonitorsClearRequestSerializer(WaitSerializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=INTEGER_MAX),
                                allow_empty=False)


class MonitoringBaseRequestSerializer(WaitSerializer):
    monitoring_base = serializers.ChoiceField(choices=["All", "FactoryDefault", "HardWiredOnly"])


class MonitoringLevelRequestSerializer(WaitSerializer):
    severity = serializers.IntegerField(min_value=0, max_value=9)


def item_component(item):
    return component_dict(item.component_name, item.component_instance, item.evse_id,
                          item.connector_id)


class VariableRequestItemSerializer(ModelSerializer):
    component = serializers.SerializerMethodField()
    variable = serializers.SerializerMethodField()
    statusInfo = serializers.JSONField(source="status_info", read_only=True)

    class Meta:
        model = VariableRequestItem
        fields = ["position", "component", "variable", "attribute_type", "value", "monitor_id",
                  "monitor_type", "monitor_value", "severity", "transaction", "status",
                  "statusInfo", "result_value", "command", "settled_at"]
        read_only_fields = fields

    def get_component(self, item) -> dict | None:
        return item_component(item) if item.component_name else None

    def get_variable(self, item) -> dict | None:
        return variable_dict(item.variable_name, item.variable_instance) if item.variable_name else None


class VariableRequestSerializer(ModelSerializer):
    station = serializers.CharField(source="station.identity", read_only=True)
    url = serializers.SerializerMethodField()
    complete = serializers.BooleanField(source="is_complete", read_only=True)
    items = VariableRequestItemSerializer(many=True, read_only=True)

    class Meta:
        model = VariableRequest
        fields = ["id", "url", "station", "action", "source", "created_at", "completed_at",
                  "complete", "reboot_required", "items"]
        read_only_fields = fields

    def get_url(self, request_row) -> str:
        from django.urls import reverse

        path = reverse("api:station-variable-request",
                       kwargs={"identity": request_row.station.identity, "pk": request_row.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ReportSerializer(ModelSerializer):
    station = serializers.CharField(source="station.identity", read_only=True)
    url = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["id", "url", "station", "request_id", "kind", "criteria", "status",
                  "status_detail", "parts_received", "parts_expected", "progress", "items_stored",
                  "command", "source", "requested_at", "last_part_at", "completed_at"]
        read_only_fields = fields

    def get_url(self, report) -> str:
        from django.urls import reverse

        path = reverse("api:station-report", kwargs={"identity": report.station.identity,
                                                     "request_id": report.request_id})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_progress(self, report) -> str:
        expected = report.parts_expected if report.parts_expected is not None else "?"
        return f"{report.parts_received}/{expected} parts"


class MonitorSerializer(ModelSerializer):
    id = serializers.IntegerField(source="monitor_id", read_only=True)
    component = serializers.SerializerMethodField()
    variable = serializers.SerializerMethodField()

    class Meta:
        model = VariableMonitor
        fields = ["id", "component", "variable", "type", "value", "severity", "transaction",
                  "updated_at", "source"]
        read_only_fields = fields

    def get_component(self, monitor) -> dict:
        component = monitor.variable.component
        return component_dict(component.name, component.instance, component.evse_id,
                              component.connector_id)

    def get_variable(self, monitor) -> dict:
        return variable_dict(monitor.variable.name, monitor.variable.instance)


class EventSerializer(ModelSerializer):
    station = serializers.CharField(source="station.identity", read_only=True)
    component = serializers.SerializerMethodField()
    variable = serializers.SerializerMethodField()
    active = serializers.BooleanField(source="is_active_alert", read_only=True)

    class Meta:
        model = Event
        fields = ["id", "station", "event_id", "timestamp", "trigger", "cause", "actual_value",
                  "severity", "cleared", "cleared_at", "active", "tech_code", "tech_info",
                  "transaction_id", "variable_monitoring_id", "event_notification_type",
                  "component", "variable", "seq_no", "received_at"]
        read_only_fields = fields

    def get_component(self, event) -> dict:
        component = event.variable.component
        return component_dict(component.name, component.instance, component.evse_id,
                              component.connector_id)

    def get_variable(self, event) -> dict:
        return variable_dict(event.variable.name, event.variable.instance)


class ValueChangeSerializer(ModelSerializer):
    component = serializers.SerializerMethodField()
    variable = serializers.SerializerMethodField()
    attribute_type = serializers.CharField(source="attribute.type", read_only=True)

    class Meta:
        model = VariableValueChange
        fields = ["id", "component", "variable", "attribute_type", "old_value", "new_value",
                  "changed_at", "source"]
        read_only_fields = fields

    def get_component(self, change) -> dict:
        component = change.attribute.variable.component
        return component_dict(component.name, component.instance, component.evse_id,
                              component.connector_id)

    def get_variable(self, change) -> dict:
        variable = change.attribute.variable
        return variable_dict(variable.name, variable.instance)


# Documentation of the component tree (built as plain dicts: it can hold thousands of variables).
class AttributeOutSerializer(serializers.Serializer):
    type = serializers.CharField()
    value = serializers.CharField(allow_null=True)
    mutability = serializers.CharField()
    persistent = serializers.BooleanField()
    constant = serializers.BooleanField()
    reboot_required = serializers.BooleanField()
    updated_at = serializers.DateTimeField()
    source = serializers.CharField()


class CharacteristicsOutSerializer(serializers.Serializer):
    unit = serializers.CharField()
    dataType = serializers.CharField()
    minLimit = serializers.FloatField(allow_null=True)
    maxLimit = serializers.FloatField(allow_null=True)
    valuesList = serializers.CharField()
    supportsMonitoring = serializers.BooleanField()


class VariableOutSerializer(serializers.Serializer):
    name = serializers.CharField()
    instance = serializers.CharField(required=False)
    attributes = AttributeOutSerializer(many=True)
    characteristics = CharacteristicsOutSerializer(allow_null=True)
    monitors = MonitorSerializer(many=True)


class ComponentOutSerializer(serializers.Serializer):
    name = serializers.CharField()
    instance = serializers.CharField(required=False)
    evse = EvseAddressSerializer(required=False)
    variables = VariableOutSerializer(many=True)


class ComponentTreeSerializer(serializers.Serializer):
    station = serializers.CharField()
    ocpp_version = serializers.CharField()
    variables = serializers.IntegerField()
    components = ComponentOutSerializer(many=True)


class ProvisioningPolicySerializer(ModelSerializer):
    class Meta:
        model = ProvisioningPolicy
        fields = ["id", "name", "enabled", "ocpp_version", "vendor_name", "model", "apply_on",
                  "initial_report", "get_variables", "set_variables", "accept_pending",
                  "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_ocpp_version(self, value):
        if value not in ("", "1.6", "2.0.1"):
            raise serializers.ValidationError("Blank (both), 1.6 or 2.0.1.")
        return value

    def validate_get_variables(self, value):
        problems = check_item_shapes(value, needs_value=False)
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def validate_set_variables(self, value):
        problems = check_item_shapes(value, needs_value=True)
        if problems:
            raise serializers.ValidationError(problems)
        return value


class ProvisioningRunSerializer(ModelSerializer):
    station = serializers.CharField(source="station.identity", read_only=True)

    class Meta:
        model = ProvisioningRun
        fields = ["id", "station", "policies", "boot_status", "status", "log", "accepted_station",
                  "started_at", "finished_at"]
        read_only_fields = fields
