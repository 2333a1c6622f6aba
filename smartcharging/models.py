"""Charging profiles the CSMS sends and tracks per station (both OCPP versions on one model), and
what stations report about limits and EV needs (block K)."""
from django.db import models

from csms.models import Command
from stations.models import Station


class ChargingProfile(models.Model):
    """One profile on one EVSE of a station (evse_id 0: the whole station), from push to its end.

    `schedules` keep the OCPP 2.0.1 shape (1.6 has the same fields minus id/phaseToUse): a list of
    {id?, startSchedule?, duration?, chargingRateUnit, minChargingRate?, chargingSchedulePeriod:
    [{startPeriod, limit, numberPhases?, phaseToUse?}]}.
    """

    class Purpose(models.TextChoices):
        # 1.6 calls the first ChargePointMaxProfile; commands translate at the edge.
        CHARGING_STATION_MAX = "ChargingStationMaxProfile"
        TX_DEFAULT = "TxDefaultProfile"
        TX = "TxProfile"
        CHARGING_STATION_EXTERNAL_CONSTRAINTS = "ChargingStationExternalConstraints"

    class Kind(models.TextChoices):
        ABSOLUTE = "Absolute"
        RECURRING = "Recurring"
        RELATIVE = "Relative"

    class RecurrencyKind(models.TextChoices):
        DAILY = "Daily"
        WEEKLY = "Weekly"

    class State(models.TextChoices):
        PENDING = "pending"        # sent (or queued), no answer yet
        INSTALLED = "installed"    # the station accepted it / reports holding it
        REJECTED = "rejected"      # the station refused it
        REPLACED = "replaced"      # a newer profile with the same purpose, stackLevel and EVSE took over
        CLEARED = "cleared"        # removed by ClearChargingProfile, or no longer reported
        EXPIRED = "expired"        # validTo passed
        ERROR = "error"            # never answered (CALLERROR, timeout, station offline)

    # States in which the station holds (or may soon hold) the profile.
    LIVE_STATES = {State.PENDING, State.INSTALLED}

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="charging_profiles")
    evse_id = models.PositiveIntegerField(default=0)
    charging_profile_id = models.IntegerField()
    stack_level = models.PositiveIntegerField()
    purpose = models.CharField(max_length=40, choices=Purpose.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    recurrency_kind = models.CharField(max_length=8, choices=RecurrencyKind.choices, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    transaction = models.ForeignKey("transactions.Transaction", on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="charging_profiles")
    schedules = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING,
                             db_index=True)
    # Reported by the station (ReportChargingProfiles) rather than sent by this CSMS.
    reported = models.BooleanField(default=False)
    # Where a reported profile came from (2.0.1 chargingLimitSource: CSO, EMS, SO, Other).
    charging_limit_source = models.CharField(max_length=8, blank=True)
    command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    clear_command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+")
    replaced_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["station", "state", "evse_id"], name="profile_station_idx")]

    def __str__(self):
        return f"{self.purpose} #{self.charging_profile_id} on {self.station_id}/{self.evse_id} ({self.state})"


class ProfileReport(models.Model):
    """A GetChargingProfiles request (2.0.1) and the ReportChargingProfiles parts that answer it;
    its pk is the requestId. Once the last part is in, the tracked profiles are reconciled."""

    class Status(models.TextChoices):
        REQUESTED = "requested"    # sent; parts may be arriving
        COMPLETE = "complete"      # the last part (tbc false) is in and applied
        EMPTY = "empty"            # the station answered NoProfiles
        FAILED = "failed"          # not delivered or refused

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="profile_reports")
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    # The chargingProfile criteria sent (2.0.1 ChargingProfileCriterionType).
    criteria = models.JSONField(default=dict)
    command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    # [{evseId, chargingLimitSource, chargingProfile}] as the parts arrive.
    profiles = models.JSONField(default=list)
    parts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]


class ChargingLimit(models.Model):
    """An external limit a station reported (NotifyChargingLimit), per EVSE (null: the station)
    and source (EMS, SO, CSO, Other), until ClearedChargingLimit."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="charging_limits")
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    charging_limit_source = models.CharField(max_length=8)
    is_grid_critical = models.BooleanField(null=True, blank=True)
    schedules = models.JSONField(default=list)
    notified_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["station", "charging_limit_source", "evse_id"],
                                name="charging_limit_idx")]


class EVChargingNeeds(models.Model):
    """What an ISO 15118 EV asked for (NotifyEVChargingNeeds) and what the CSMS answered."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="ev_charging_needs")
    evse_id = models.PositiveIntegerField()
    requested_energy_transfer = models.CharField(max_length=24)
    departure_time = models.DateTimeField(null=True, blank=True)
    max_schedule_tuples = models.PositiveIntegerField(null=True, blank=True)
    charging_needs = models.JSONField()
    answer_status = models.CharField(max_length=12)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "EV charging needs"


class EVChargingSchedule(models.Model):
    """The schedule an EV chose (NotifyEVChargingSchedule), kept to show beside the profiles."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="ev_charging_schedules")
    evse_id = models.PositiveIntegerField()
    time_base = models.DateTimeField()
    charging_schedule = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
