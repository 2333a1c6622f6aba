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
    # Re-sends to a station that lost the profile (after its boot), counted from 1 for each boot:
    # failed ones are retried until SMARTCHARGING_RESTORE_ATTEMPTS (actions/restore.py).
    restore_attempts = models.PositiveSmallIntegerField(default=0)
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
        # Accepted, but the last part never came within SMARTCHARGING_REPORT_TIMEOUT_SECONDS.
        INCOMPLETE = "incomplete"

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


class Site(models.Model):
    """Stations behind one grid connection, whose charging the CSMS shares out so the sum never
    exceeds the connection's limit (central load management).

    The limit over time is one charging schedule in the composite module's terms: `limit_periods`
    [{startPeriod, limit}] from `limit_start` (none: from whenever it is read, so a constant limit
    is one period), repeating daily or weekly when `limit_recurrency` is set.
    """

    class Unit(models.TextChoices):
        AMPERES = "A"   # per phase, with number_phases and voltage
        WATTS = "W"

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    limit_unit = models.CharField(max_length=1, choices=Unit.choices, default=Unit.WATTS)
    limit_periods = models.JSONField(default=list)
    limit_start = models.DateTimeField(null=True, blank=True)
    limit_recurrency = models.CharField(max_length=8, choices=ChargingProfile.RecurrencyKind.choices,
                                        blank=True)
    number_phases = models.PositiveSmallIntegerField(default=3)
    voltage = models.FloatField(default=230.0)
    # Kept free below the limit (meter error, loads the CSMS does not see).
    safety_margin_percent = models.FloatField(default=0.0)
    # The TxDefaultProfile limit every member EVSE holds (limit_unit; none: the limit divided by
    # the connectors): what an EVSE may draw before, or without, an allocation of its own.
    fallback_limit = models.FloatField(null=True, blank=True)
    # Debounce: a round is due at this time (set by the first trigger of a burst; None: none due).
    reallocation_due_at = models.DateTimeField(null=True, blank=True)
    # One round at a time per site: held until this time by the round running (None: free).
    round_lease_until = models.DateTimeField(null=True, blank=True)
    # When the limit (looked ahead) changes next: the beat starts a round then.
    limit_next_change_at = models.DateTimeField(null=True, blank=True)
    rounds = models.PositiveIntegerField(default=0)
    last_round_at = models.DateTimeField(null=True, blank=True)
    # What the last round did: limit, budget, frames sent, answers, timings (see reallocation.py).
    last_round = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class SiteMember(models.Model):
    """A station in a site; a station belongs to one site at most."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="members")
    station = models.OneToOneField(Station, on_delete=models.CASCADE, related_name="site_membership")
    # What one EVSE of this station can deliver, in W (none: from the device model, else the
    # site's fallback). Used as the EVSE's maximum and for a station that does not answer.
    evse_max_power = models.FloatField(null=True, blank=True)
    # Unit of the profiles sent to this station (blank: what the station says it supports).
    charging_rate_unit = models.CharField(max_length=1, choices=Site.Unit.choices, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site", "station"]

    def __str__(self):
        return f"{self.station_id} in {self.site_id}"


class SiteAllocation(models.Model):
    """The share of the site limit one member EVSE has: what the allocator wants (`target`) and
    what the station is counted as holding (`held`). Every EVSE holds its own fallback
    TxDefaultProfile; an EVSE with a transaction also holds a TxProfile, and when the session ends
    it falls back to the former, so a running EVSE's fallback is never above its share and
    `held` is the larger of the two (a part unanswered or rejected counts at the EVSE's maximum
    or at what it held before). Power in W."""

    class State(models.TextChoices):
        PENDING = "pending"          # a profile is on its way
        HELD = "held"                # the station accepted the current target
        REJECTED = "rejected"        # refused: counted at its maximum
        UNANSWERED = "unanswered"    # no answer (offline, timeout, error): counted at its maximum

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="allocations")
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="site_allocations")
    evse_id = models.PositiveIntegerField()
    transaction = models.ForeignKey("transactions.Transaction", on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="site_allocations")
    priority = models.IntegerField(default=0)
    target = models.FloatField(default=0.0)
    held = models.FloatField(default=0.0)
    measured = models.FloatField(null=True, blank=True)
    # When the station accepted a raise of its share: readings taken before it show the old,
    # lower draw and must not be taken for power left unused.
    raised_at = models.DateTimeField(null=True, blank=True)
    profile = models.ForeignKey(ChargingProfile, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    # What the accepted (or in-flight raised) TxProfile allows (W; None: no TxProfile).
    tx_held = models.FloatField(null=True, blank=True)
    # This EVSE's fallback TxDefaultProfile last sent (its charging_profile_id is reused so each
    # replaces the last), and what it allows once accepted (W; None: nothing accepted since the
    # EVSE joined or its station booted, so the EVSE counts at its maximum).
    fallback_profile = models.ForeignKey(ChargingProfile, on_delete=models.SET_NULL, null=True,
                                         blank=True, related_name="+")
    fallback_held = models.FloatField(null=True, blank=True)
    # The fallback must be sent again (joined, rebooted, member settings changed) next round.
    fallback_stale = models.BooleanField(default=True)
    # The EVSE's most: what it is counted at when it holds nothing lower (W).
    maximum = models.FloatField(default=0.0)
    # What was sent last, in the unit sent (A or W): the station rounds nothing further.
    sent_limit = models.FloatField(null=True, blank=True)
    sent_unit = models.CharField(max_length=1, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site", "station", "evse_id"]
        constraints = [models.UniqueConstraint(fields=["site", "station", "evse_id"],
                                               name="site_allocation_unique_evse")]
