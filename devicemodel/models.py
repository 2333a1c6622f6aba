"""The device model of each station: components, variables, attributes, monitors, reports, events,
per-item results of variable requests, and the provisioning policies applied at boot."""
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Coalesce

from csms.models import Command
from stations.models import Station

# OCPP 1.6 configuration keys are stored as the variables of this one station-level component.
CONFIGURATION_COMPONENT = "ChargePointConfiguration"

REPORT_BASES = ["ConfigurationInventory", "FullInventory", "SummaryInventory"]


class AttributeType(models.TextChoices):
    ACTUAL = "Actual"
    TARGET = "Target"
    MIN_SET = "MinSet"
    MAX_SET = "MaxSet"


class Mutability(models.TextChoices):
    READ_ONLY = "ReadOnly"
    WRITE_ONLY = "WriteOnly"
    READ_WRITE = "ReadWrite"


class DataType(models.TextChoices):
    STRING = "string"
    DECIMAL = "decimal"
    INTEGER = "integer"
    DATE_TIME = "dateTime"
    BOOLEAN = "boolean"
    OPTION_LIST = "OptionList"
    SEQUENCE_LIST = "SequenceList"
    MEMBER_LIST = "MemberList"


class MonitorType(models.TextChoices):
    UPPER_THRESHOLD = "UpperThreshold"
    LOWER_THRESHOLD = "LowerThreshold"
    DELTA = "Delta"
    PERIODIC = "Periodic"
    PERIODIC_CLOCK_ALIGNED = "PeriodicClockAligned"


class Component(models.Model):
    """A component of a station, at the station tier (no EVSE), an EVSE, or a connector."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="components")
    name = models.CharField(max_length=50)
    instance = models.CharField(max_length=50, blank=True, default="")
    evse_id = models.IntegerField(null=True, blank=True)
    connector_id = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["station", "evse_id", "connector_id", "name", "instance"]
        constraints = [
            models.UniqueConstraint(
                "station", "name", "instance", Coalesce("evse_id", -1), Coalesce("connector_id", -1),
                name="unique_component_per_station",
            ),
        ]

    def __str__(self):
        return component_label(self.name, self.instance, self.evse_id, self.connector_id)

    @property
    def key(self):
        return (self.name, self.instance, self.evse_id, self.connector_id)

    def clean(self):
        if self.connector_id is not None and self.evse_id is None:
            raise ValidationError({"connector_id": "A connector is addressed within an EVSE."})


def component_label(name, instance="", evse_id=None, connector_id=None):
    label = f"{name}[{instance}]" if instance else name
    if evse_id is not None:
        label += f" @EVSE {evse_id}" + (f"/{connector_id}" if connector_id is not None else "")
    return label


class Variable(models.Model):
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="variables")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(max_length=50)
    instance = models.CharField(max_length=50, blank=True, default="")

    class Meta:
        ordering = ["component", "name", "instance"]
        constraints = [
            models.UniqueConstraint(
                fields=["component", "name", "instance"], name="unique_variable_per_component"
            ),
        ]

    def __str__(self):
        label = f"{self.name}[{self.instance}]" if self.instance else self.name
        return f"{self.component}.{label}"


class VariableCharacteristics(models.Model):
    """What the station says a variable can hold: read-only metadata used to validate sets."""

    variable = models.OneToOneField(Variable, on_delete=models.CASCADE, related_name="characteristics")
    unit = models.CharField(max_length=16, blank=True)
    data_type = models.CharField(max_length=16, choices=DataType.choices)
    min_limit = models.FloatField(null=True, blank=True)
    max_limit = models.FloatField(null=True, blank=True)
    values_list = models.TextField(blank=True)
    supports_monitoring = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "variable characteristics"

    def __str__(self):
        return f"{self.variable} ({self.data_type})"

    @property
    def allowed_values(self):
        return [value.strip() for value in self.values_list.split(",") if value.strip()]


class VariableAttribute(models.Model):
    variable = models.ForeignKey(Variable, on_delete=models.CASCADE, related_name="attributes")
    type = models.CharField(max_length=8, choices=AttributeType.choices, default=AttributeType.ACTUAL)
    # None: never reported (e.g. WriteOnly) or not read yet.
    value = models.TextField(null=True, blank=True)
    mutability = models.CharField(
        max_length=9, choices=Mutability.choices, default=Mutability.READ_WRITE
    )
    persistent = models.BooleanField(default=False)
    constant = models.BooleanField(default=False)
    # A set answered RebootRequired: the value takes effect at the station's next boot.
    reboot_required = models.BooleanField(default=False)
    updated_at = models.DateTimeField()
    # The station's own time of the value when an event told it; an older event never
    # overwrites a newer one. Null when the value came from a report, get or set.
    observed_at = models.DateTimeField(null=True, blank=True)
    # What last changed it: "report:<requestId>", "set:api:<user>", "event:<eventId>", ...
    source = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["variable", "type"]
        constraints = [
            models.UniqueConstraint(fields=["variable", "type"], name="unique_attribute_type"),
        ]

    def __str__(self):
        return f"{self.variable} {self.type}={self.value}"

    @property
    def writable(self):
        return self.mutability != Mutability.READ_ONLY and not self.constant


class VariableValueChange(models.Model):
    """The history of an attribute's value: what changed it, when, from what to what."""

    attribute = models.ForeignKey(VariableAttribute, on_delete=models.CASCADE, related_name="changes")
    old_value = models.TextField(null=True, blank=True)
    new_value = models.TextField(null=True, blank=True)
    changed_at = models.DateTimeField()
    source = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["attribute", "-changed_at"], name="value_change_attr_idx")]

    def __str__(self):
        return f"{self.attribute.variable}: {self.old_value!r} -> {self.new_value!r}"


class VariableMonitor(models.Model):
    """A monitor installed on a station (VariableMonitoring); ids are the station's own."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="monitors")
    variable = models.ForeignKey(Variable, on_delete=models.CASCADE, related_name="monitors")
    monitor_id = models.IntegerField()
    type = models.CharField(max_length=24, choices=MonitorType.choices)
    value = models.FloatField()
    # 0 Danger .. 9 Debug (OCPP 2.0.1 severity levels).
    severity = models.PositiveSmallIntegerField()
    transaction = models.BooleanField(default=False)
    updated_at = models.DateTimeField()
    source = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["station", "monitor_id"]
        constraints = [
            models.UniqueConstraint(fields=["station", "monitor_id"], name="unique_monitor_id"),
        ]

    def __str__(self):
        return f"#{self.monitor_id} {self.type} {self.value} on {self.variable}"


class Report(models.Model):
    """One report request (GetBaseReport, GetReport, GetMonitoringReport, 1.6 GetConfiguration)
    and its progress while NotifyReport / NotifyMonitoringReport parts arrive."""

    class Kind(models.TextChoices):
        FULL_INVENTORY = "FullInventory"
        CONFIGURATION_INVENTORY = "ConfigurationInventory"
        SUMMARY_INVENTORY = "SummaryInventory"
        CUSTOM = "CustomReport"
        MONITORING = "MonitoringReport"
        CONFIGURATION = "Configuration", "Configuration keys (OCPP 1.6)"

    class Status(models.TextChoices):
        REQUESTED = "requested"
        ACCEPTED = "accepted"
        RECEIVING = "receiving"
        DONE = "done"
        REJECTED = "rejected"
        FAILED = "failed"
        TIMED_OUT = "timed_out"

    OPEN = {Status.REQUESTED, Status.ACCEPTED, Status.RECEIVING}

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="reports")
    # Null only for the instant between creating the row and numbering it after its pk.
    request_id = models.IntegerField(null=True, blank=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    criteria = models.JSONField(default=dict, blank=True)
    command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    status_detail = models.CharField(max_length=300, blank=True)
    parts_received = models.PositiveIntegerField(default=0)
    # Known once the part with tbc=false arrives: its seqNo + 1.
    parts_expected = models.PositiveIntegerField(null=True, blank=True)
    items_stored = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=100, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    last_part_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["station", "request_id"], name="unique_report_request"),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="report_open_idx")]

    def __str__(self):
        return f"{self.kind} #{self.request_id} of {self.station} ({self.status})"

    @property
    def is_open(self):
        return self.status in self.OPEN


class ReportPart(models.Model):
    """One NotifyReport / NotifyMonitoringReport message; its data is emptied once the report is
    complete and stored (the row stays, so a replayed seqNo is still recognised)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="parts")
    seq_no = models.IntegerField()
    tbc = models.BooleanField(default=False)
    generated_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=list)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report", "seq_no"]
        constraints = [
            models.UniqueConstraint(fields=["report", "seq_no"], name="unique_report_part"),
        ]

    def __str__(self):
        return f"{self.report} part {self.seq_no}"


class Event(models.Model):
    """One NotifyEvent eventData item: an alert, a delta or a periodic value of a variable."""

    class Trigger(models.TextChoices):
        ALERTING = "Alerting"
        DELTA = "Delta"
        PERIODIC = "Periodic"

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="device_events")
    variable = models.ForeignKey(Variable, on_delete=models.CASCADE, related_name="events")
    event_id = models.IntegerField()
    timestamp = models.DateTimeField()
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    cause = models.IntegerField(null=True, blank=True)
    actual_value = models.TextField(blank=True)
    tech_code = models.CharField(max_length=50, blank=True)
    tech_info = models.CharField(max_length=500, blank=True)
    # The station reports a return to normal with cleared=true.
    cleared = models.BooleanField(default=False)
    transaction_id = models.CharField(max_length=36, blank=True)
    variable_monitoring_id = models.IntegerField(null=True, blank=True)
    event_notification_type = models.CharField(max_length=24)
    # From the monitor that raised it, when the CSMS knows that monitor.
    severity = models.PositiveSmallIntegerField(null=True, blank=True)
    # Set on an alert when a later cleared event for the same variable (and monitor) arrives.
    cleared_at = models.DateTimeField(null=True, blank=True)
    seq_no = models.IntegerField(default=0)
    generated_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        constraints = [
            # A replayed NotifyEvent (after an offline period) stores nothing twice.
            models.UniqueConstraint(fields=["station", "event_id", "timestamp"], name="unique_event"),
        ]
        indexes = [
            models.Index(fields=["station", "-timestamp"], name="event_station_idx"),
            models.Index(fields=["trigger", "cleared", "cleared_at"], name="event_alert_idx"),
        ]

    def __str__(self):
        return f"event {self.event_id} {self.trigger} on {self.variable}"

    @property
    def is_active_alert(self):
        return self.trigger == self.Trigger.ALERTING and not self.cleared and self.cleared_at is None


class VariableRequest(models.Model):
    """A batch of per-item device-model operations sent as one or more calls (split to the
    station's limits): Get/SetVariables, Set/ClearVariableMonitoring, 1.6 Get/ChangeConfiguration."""

    class Action(models.TextChoices):
        GET_VARIABLES = "GetVariables"
        SET_VARIABLES = "SetVariables"
        GET_CONFIGURATION = "GetConfiguration"
        CHANGE_CONFIGURATION = "ChangeConfiguration"
        SET_VARIABLE_MONITORING = "SetVariableMonitoring"
        CLEAR_VARIABLE_MONITORING = "ClearVariableMonitoring"

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="variable_requests")
    action = models.CharField(max_length=32, choices=Action.choices)
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    reboot_required = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.action} #{self.pk} to {self.station}"

    @property
    def is_complete(self):
        return self.completed_at is not None


class VariableRequestItem(models.Model):
    request = models.ForeignKey(VariableRequest, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    component_name = models.CharField(max_length=50, blank=True)
    component_instance = models.CharField(max_length=50, blank=True)
    evse_id = models.IntegerField(null=True, blank=True)
    connector_id = models.IntegerField(null=True, blank=True)
    variable_name = models.CharField(max_length=50, blank=True)
    variable_instance = models.CharField(max_length=50, blank=True)
    attribute_type = models.CharField(max_length=8, blank=True)
    # The value to set (SetVariables, ChangeConfiguration).
    value = models.TextField(null=True, blank=True)
    # Monitoring items.
    monitor_id = models.IntegerField(null=True, blank=True)
    monitor_type = models.CharField(max_length=24, blank=True)
    monitor_value = models.FloatField(null=True, blank=True)
    severity = models.PositiveSmallIntegerField(null=True, blank=True)
    transaction = models.BooleanField(default=False)
    # The station's answer for this item: Accepted, Rejected, RebootRequired, UnknownVariable...
    # or the call's failure (timeout, offline, error). Blank while pending.
    status = models.CharField(max_length=32, blank=True)
    status_info = models.JSONField(null=True, blank=True)
    result_value = models.TextField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["request", "position"]

    def __str__(self):
        return f"{self.request} item {self.position}: {self.status or 'pending'}"

    @property
    def component_key(self):
        return (self.component_name, self.component_instance, self.evse_id, self.connector_id)

    @property
    def variable_key(self):
        return (self.variable_name, self.variable_instance)


class ProvisioningPolicy(models.Model):
    """What to read and set on stations when they boot; matched by OCPP version, vendor and model."""

    class ApplyOn(models.TextChoices):
        EVERY_BOOT = "every_boot", "every boot"
        FIRST_BOOT = "first_boot", "the station's first boot"
        PENDING_BOOT = "pending_boot", "boots answered Pending"

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    ocpp_version = models.CharField(max_length=8, blank=True, help_text="Blank: both versions.")
    vendor_name = models.CharField(max_length=50, blank=True, help_text="Blank: any vendor.")
    model = models.CharField(max_length=50, blank=True, help_text="Blank: any model.")
    apply_on = models.CharField(max_length=16, choices=ApplyOn.choices, default=ApplyOn.EVERY_BOOT)
    initial_report = models.CharField(
        max_length=24, blank=True, choices=[(base, base) for base in REPORT_BASES],
        help_text="Report requested once the station is Accepted and has none of this kind yet "
                  "(1.6 stations: GetConfiguration).",
    )
    get_variables = models.JSONField(
        default=list, blank=True,
        help_text='Items to read: [{"component": {"name": ...}, "variable": {"name": ...}}] '
                  "(1.6: the variable name is the configuration key; component may be omitted).",
    )
    set_variables = models.JSONField(
        default=list, blank=True,
        help_text='Items to set: [{"component": {...}, "variable": {...}, "attributeValue": "..."}].',
    )
    accept_pending = models.BooleanField(
        default=False,
        help_text="A station that booted Pending is accepted (and asked to boot again) once every "
                  "set was accepted.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "provisioning policies"

    def __str__(self):
        return self.name

    def clean(self):
        from .values import check_item_shapes

        errors = {}
        for field, needs_value in (("get_variables", False), ("set_variables", True)):
            problems = check_item_shapes(getattr(self, field), needs_value)
            if problems:
                errors[field] = problems
        if self.ocpp_version not in ("", "1.6", "2.0.1"):
            errors["ocpp_version"] = "Blank, 1.6 or 2.0.1."
        if errors:
            raise ValidationError(errors)

    def applies_to(self, station, ocpp_version):
        return (
            self.enabled
            and self.ocpp_version in ("", ocpp_version)
            and self.vendor_name in ("", station.vendor_name)
            and self.model in ("", station.model)
        )

    def runs_on(self, registration_status, first_boot):
        """Whether its reads and sets run on this boot (the initial report has its own rule)."""
        if self.apply_on == self.ApplyOn.FIRST_BOOT:
            return first_boot
        if self.apply_on == self.ApplyOn.PENDING_BOOT:
            return registration_status == Station.RegistrationStatus.PENDING
        return True


class ProvisioningRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="provisioning_runs")
    policies = models.ManyToManyField(ProvisioningPolicy, related_name="runs", blank=True)
    boot_status = models.CharField(max_length=8)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    # One line per step: what was sent and how it went.
    log = models.JSONField(default=list, blank=True)
    accepted_station = models.BooleanField(default=False)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"provisioning of {self.station} ({self.status})"
