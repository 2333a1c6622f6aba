"""Id tokens, transactions with their events and meter values, tariffs, reservations, remote
starts and local authorization lists: what an operator bills from."""
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

from csms.models import Command
from stations.models import Station

from .write_stamps import StampedModel


class IdTokenType(models.TextChoices):
    CENTRAL = "Central"
    EMAID = "eMAID"
    ISO14443 = "ISO14443"
    ISO15693 = "ISO15693"
    KEY_CODE = "KeyCode"
    LOCAL = "Local"
    MAC_ADDRESS = "MacAddress"
    NO_AUTHORIZATION = "NoAuthorization"


class IdToken(models.Model):
    """A token a driver presents (2.0.1 IdToken; a 1.6 idTag is stored the same way)."""

    class Status(models.TextChoices):
        ACCEPTED = "Accepted"
        BLOCKED = "Blocked"
        INVALID = "Invalid"

    class PersonalMessageFormat(models.TextChoices):
        ASCII = "ASCII"
        HTML = "HTML"
        URI = "URI"
        UTF8 = "UTF8"

    id_token = models.CharField(max_length=36)
    type = models.CharField(max_length=16, choices=IdTokenType.choices, default=IdTokenType.ISO14443)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    # Past this instant the token answers Expired.
    expires_at = models.DateTimeField(null=True, blank=True)
    # The group token (2.0.1 groupIdToken, 1.6 parentIdTag): any token of a group may stop a
    # transaction another token of the same group started.
    group = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    # Empty means every station; otherwise the others answer NotAtThisLocation (1.6: Invalid).
    allowed_stations = models.ManyToManyField(Station, blank=True, related_name="+")
    # Handed to the station as idTokenInfo.evseId (the EVSEs it may charge at); empty means any.
    allowed_evse_ids = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=8, blank=True)
    personal_message = models.CharField(max_length=512, blank=True)
    personal_message_format = models.CharField(
        max_length=5, choices=PersonalMessageFormat.choices, default=PersonalMessageFormat.UTF8
    )
    charging_priority = models.SmallIntegerField(default=0)
    # False: a token charging somewhere answers ConcurrentTx when presented to start again.
    allow_concurrent_transactions = models.BooleanField(default=False)
    # Total cost of its transactions above which it answers NoCredit; empty means no limit.
    spending_limit = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # True for a token the CSMS first saw at a station and recorded (unknown-token policy accept).
    seen_first_at_station = models.BooleanField(default=False)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id_token", "type"]
        constraints = [
            models.UniqueConstraint(fields=["id_token", "type"], name="unique_id_token_per_type")
        ]
        verbose_name = "id token"

    def __str__(self):
        return f"{self.id_token} ({self.type})"

    def clean(self):
        if self.group_id is not None and self.group_id == self.pk:
            raise ValidationError({"group": "A token cannot be its own group."})
        if not isinstance(self.allowed_evse_ids, list) or not all(
            isinstance(evse_id, int) and evse_id > 0 for evse_id in self.allowed_evse_ids
        ):
            raise ValidationError({"allowed_evse_ids": "A list of EVSE ids (positive integers)."})
        if self.spending_limit is not None and self.spending_limit < 0:
            raise ValidationError({"spending_limit": "Must not be negative."})


class Tariff(StampedModel):
    """Prices excluding VAT; the total adds VAT and is rounded to the cent."""

    name = models.CharField(max_length=100, unique=True)
    currency = models.CharField(max_length=3, default="EUR")
    price_per_kwh = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    # Per minute the EV actually charges (chargingState Charging).
    price_per_minute = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    price_per_session = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    # Per minute the EV stays connected without charging, after the first idle_grace_minutes.
    idle_fee_per_minute = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    idle_grace_minutes = models.PositiveIntegerField(default=0)
    vat_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    # The tariff of every station that has none of its own (at most one).
    is_default = models.BooleanField(default=False)
    # Seconds between CostUpdated calls for running 2.0.1 transactions; empty: the setting.
    cost_update_interval = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # New with every write: a socket holder's kept copy prices with this tariff only while the
    # row still has the stamp it read (transactions/ingest.py).
    write_stamp = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True),
                name="one_default_tariff",
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValidationError({"currency": "An ISO 4217 code such as EUR."})
        for field in ("price_per_kwh", "price_per_minute", "price_per_session",
                      "idle_fee_per_minute", "vat_percent"):
            if getattr(self, field) is not None and getattr(self, field) < 0:
                raise ValidationError({field: "Must not be negative."})


class StationTariff(models.Model):
    """The tariff of one station (stations without one use the default tariff)."""

    station = models.OneToOneField(Station, on_delete=models.CASCADE, related_name="tariff_assignment")
    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="assignments")

    def __str__(self):
        return f"{self.station} -> {self.tariff}"


class TransactionNumber(models.Model):
    """Hands out 1.6 transactionIds: an auto-increment key is unique under concurrent writers and,
    with AUTOINCREMENT on SQLite and a sequence on Postgres, never reused."""

    id = models.AutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)


class Reservation(models.Model):
    """A reservation of an EVSE (or any EVSE) for a token; its pk is the reservation id sent."""

    class Status(models.TextChoices):
        PENDING = "Pending"  # sent, no answer yet
        ACCEPTED = "Accepted"  # the station holds it
        FAULTED = "Faulted"
        OCCUPIED = "Occupied"
        REJECTED = "Rejected"
        UNAVAILABLE = "Unavailable"
        FAILED = "Failed"  # never answered: offline, timeout, error
        CANCELLED = "Cancelled"
        EXPIRED = "Expired"
        REMOVED = "Removed"  # ReservationStatusUpdate Removed
        USED = "Used"  # a transaction used it

    OPEN = {Status.PENDING, Status.ACCEPTED}

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="reservations")
    # 2.0.1 evseId / 1.6 connectorId; empty means any.
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    connector_type = models.CharField(max_length=20, blank=True)
    id_token = models.ForeignKey(IdToken, on_delete=models.PROTECT, related_name="reservations")
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    cancel_command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="+")
    # False while the answer to its last command (reserve or cancel) is still to be applied.
    settled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "expires_at"], name="reservation_open_idx")]

    def __str__(self):
        return f"reservation {self.pk} at {self.station} ({self.status})"


class Transaction(StampedModel):
    """One charging session, keyed by station + the transaction id of the wire (2.0.1: made by
    the station; 1.6: the number the CSMS gave). Everything below `state` is derived from the
    events and meter values, so a replay in any order yields the same row."""

    class State(models.TextChoices):
        ACTIVE = "Active"
        ENDED = "Ended"

    class Settlement(models.TextChoices):
        """Why the CSMS closed a transaction the station never ended (never OCPP stoppedReason
        words, so `stopped_reason` tells which side ended it)."""
        STATION_REBOOTED = "StationRebooted"
        CONNECTOR_AVAILABLE = "ConnectorAvailable"
        NO_NEWS = "NoNews"
        OPERATOR = "ClosedByOperator"
        # E14: GetTransactionStatus said not ongoing and no messages queued.
        NOT_ONGOING = "StationNotOngoing"

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="transactions")
    transaction_id = models.CharField(max_length=36)
    ocpp_version = models.CharField(max_length=8)
    tariff = models.ForeignKey(Tariff, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="transactions")
    # 1.6: connector, idTag, timestamp and meterStart of the StartTransaction, so a repeat after
    # a reconnect gets the same transactionId back.
    start_fingerprint = models.CharField(max_length=200, null=True, blank=True)

    state = models.CharField(max_length=8, choices=State.choices, default=State.ACTIVE)
    started_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    connector_id = models.PositiveIntegerField(null=True, blank=True)
    id_token = models.ForeignKey(IdToken, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="transactions")
    # As the station sent them (kept when the token is unknown).
    id_token_value = models.CharField(max_length=36, blank=True, db_index=True)
    id_token_type = models.CharField(max_length=16, blank=True)
    stop_id_token_value = models.CharField(max_length=36, blank=True)
    stop_id_token_type = models.CharField(max_length=16, blank=True)
    charging_state = models.CharField(max_length=16, blank=True)
    stopped_reason = models.CharField(max_length=20, blank=True)
    remote_start_id = models.IntegerField(null=True, blank=True)
    reservation = models.ForeignKey(Reservation, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="transactions")
    reservation_id_sent = models.IntegerField(null=True, blank=True)
    time_spent_charging = models.PositiveIntegerField(null=True, blank=True)
    number_of_phases_used = models.PositiveSmallIntegerField(null=True, blank=True)
    # Some of its events were queued while the station was offline.
    offline = models.BooleanField(default=False)
    last_seq_no = models.IntegerField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    event_count = models.PositiveIntegerField(default=0)

    meter_start_wh = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    meter_stop_wh = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    energy_wh = models.DecimalField(max_digits=20, decimal_places=4, default=Decimal("0"))
    charging_seconds = models.PositiveIntegerField(default=0)
    # Empty when no tariff applies; as of ended_at, or of the newest event while running.
    total_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    cost_breakdown = models.JSONField(default=dict, blank=True)
    # Last totalCost sent in a CostUpdated (2.0.1) and when.
    cost_sent = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    cost_sent_at = models.DateTimeField(null=True, blank=True)
    # The running state of the derivation (see actions.RunningFold), so an event that comes in
    # order is folded in without re-reading the transaction's events and readings.
    derivation = models.JSONField(default=dict, blank=True, editable=False)
    # New with every write (save or queryset update): the socket holder folds its next reading
    # into its kept copy only while the row still has the stamp it read (transactions/ingest.py).
    write_stamp = models.BigIntegerField(default=0, editable=False)
    # The idTokenInfo / idTagInfo status answered for the start token; anything but Accepted
    # (or empty: no token) is a refused transaction, which never blocks its token (ConcurrentTx).
    authorization_status = models.CharField(max_length=20, blank=True)
    # Set when the station's readings or times are impossible (negative energy, ended before it
    # started): such a transaction is not billed (energy 0 when negative, no cost).
    anomaly = models.CharField(max_length=200, blank=True)

    # When the CSMS last heard of it (server clock), and when it closes it unless it hears again.
    last_news_at = models.DateTimeField(null=True, blank=True)
    settle_due_at = models.DateTimeField(null=True, blank=True)
    settle_reason = models.CharField(max_length=20, choices=Settlement.choices, blank=True)
    # The CSMS's closing of a transaction the station never ended: the audit line (who, when,
    # why). Kept when a later Ended from the station replaces it.
    settlement = models.CharField(max_length=20, choices=Settlement.choices, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_by = models.CharField(max_length=150, blank=True)
    settlement_note = models.CharField(max_length=500, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["station", "transaction_id"],
                                    name="unique_transaction_per_station"),
            models.UniqueConstraint(fields=["station", "start_fingerprint"],
                                    condition=models.Q(start_fingerprint__isnull=False),
                                    name="unique_start_per_station"),
        ]
        indexes = [
            models.Index(fields=["state", "station"], name="transaction_state_idx"),
            models.Index(fields=["settle_due_at"], name="transaction_settle_due_idx",
                         condition=models.Q(settle_due_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.station} transaction {self.transaction_id}"

    @property
    def energy_kwh(self):
        return self.energy_wh / 1000

    @property
    def refused(self):
        return self.authorization_status not in ("", "Accepted")

    @property
    def closed_by_csms(self):
        """Ended by the CSMS's settlement, not (yet) by the station's own Ended."""
        return self.state == self.State.ENDED and self.stopped_reason in self.Settlement.values


class TransactionEvent(models.Model):
    """One message of a transaction as received: 2.0.1 TransactionEvent (keyed by seqNo), or a
    1.6 StartTransaction / StopTransaction (no seqNo)."""

    class EventType(models.TextChoices):
        STARTED = "Started"
        UPDATED = "Updated"
        ENDED = "Ended"

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="events")
    seq_no = models.IntegerField(null=True, blank=True)
    event_type = models.CharField(max_length=8, choices=EventType.choices)
    timestamp = models.DateTimeField()
    trigger_reason = models.CharField(max_length=30, blank=True)
    offline = models.BooleanField(default=False)
    payload = models.JSONField()
    # The answer given the first time, repeated to a replay of the same event.
    answer = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["transaction", "seq_no", "timestamp", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "seq_no"],
                                    condition=models.Q(seq_no__isnull=False),
                                    name="unique_event_seq_no"),
        ]

    def __str__(self):
        return f"{self.transaction} {self.event_type} #{self.seq_no}"


class MeterValue(models.Model):
    """One sampled value, as sent plus normalized to the base unit (Wh, W, varh, var, VA, A, V)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="meter_values")
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="meter_values")
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    connector_id = models.PositiveIntegerField(null=True, blank=True)
    timestamp = models.DateTimeField()
    measurand = models.CharField(max_length=40, default="Energy.Active.Import.Register")
    phase = models.CharField(max_length=6, blank=True)
    location = models.CharField(max_length=8, blank=True)
    context = models.CharField(max_length=20, blank=True)
    # The value as sent (1.6 sends a string; 2.0.1 a number with unitOfMeasure.multiplier).
    raw_value = models.CharField(max_length=2500)
    unit = models.CharField(max_length=20, blank=True)
    multiplier = models.SmallIntegerField(default=0)
    # value x 10^multiplier in the base unit; empty when the raw value is not a number.
    value = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    base_unit = models.CharField(max_length=20, blank=True)
    signed_meter_value = models.JSONField(null=True, blank=True)
    # The transaction message that carried it (none: a 1.6 MeterValues).
    event = models.ForeignKey(TransactionEvent, on_delete=models.CASCADE, null=True, blank=True,
                              related_name="meter_values", db_index=False)
    # Sent after its transaction's end (a later Updated, a 1.6 MeterValues after the stop):
    # stored, never billed.
    after_end = models.BooleanField(default=False)

    class Meta:
        ordering = ["timestamp", "id"]
        constraints = [
            # A repeat of a reading (a 1.6 MeterValues re-sent after a reconnect) counts once.
            models.UniqueConstraint(
                fields=["transaction", "timestamp", "measurand", "phase", "location", "context"],
                condition=models.Q(transaction__isnull=False), name="unique_reading_per_transaction",
            ),
        ]
        indexes = [
            models.Index(fields=["transaction", "timestamp"], name="metervalue_tx_time_idx"),
            models.Index(fields=["station", "timestamp"], name="metervalue_station_time_idx"),
        ]

    def __str__(self):
        return f"{self.measurand} {self.raw_value}{self.unit} at {self.timestamp:%H:%M:%S}"


class RemoteStart(models.Model):
    """A remote start request; its pk is the 2.0.1 remoteStartId linking it to the transaction."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="remote_starts")
    id_token_value = models.CharField(max_length=36)
    id_token_type = models.CharField(max_length=16, blank=True)
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    # The station's answer: Accepted / Rejected, or the command's failure.
    status = models.CharField(max_length=16, blank=True)
    settled = models.BooleanField(default=False)
    transaction = models.ForeignKey(Transaction, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="remote_starts")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"remote start {self.pk} at {self.station}"


class LocalList(models.Model):
    """The local authorization list a station holds, as far as the CSMS knows."""

    station = models.OneToOneField(Station, on_delete=models.CASCADE, related_name="local_list")
    # The version the station accepted last.
    version_number = models.IntegerField(default=0)
    # Its content then: {"<idToken>|<type>": idTokenInfo}; None when unknown (send a Full list).
    entries = models.JSONField(null=True, blank=True)
    # Token pks the list is built from; None means all tokens.
    selection = models.JSONField(null=True, blank=True)
    # What the station answered to GetLocalListVersion last, and when.
    reported_version = models.IntegerField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"local list of {self.station} (v{self.version_number})"


class LocalListUpdate(models.Model):
    """One SendLocalList or GetLocalListVersion sent, until its answer is applied."""

    class Kind(models.TextChoices):
        SEND = "SendLocalList"
        GET_VERSION = "GetLocalListVersion"

    local_list = models.ForeignKey(LocalList, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    update_type = models.CharField(max_length=12, blank=True)
    version_number = models.IntegerField(null=True, blank=True)
    # The list content once the station applies it.
    resulting_entries = models.JSONField(null=True, blank=True)
    selection = models.JSONField(null=True, blank=True)
    command = models.ForeignKey(Command, on_delete=models.SET_NULL, null=True, related_name="+")
    outcome = models.CharField(max_length=20, blank=True)
    settled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

from .models_customer import CustomerInformationRequest, IdTokenErasure  # noqa: E402,F401
from .models_status import TransactionStatusRequest  # noqa: E402,F401
from .models_pnc import TrustedRoot  # noqa: E402,F401
