"""Firmware campaigns: one image rolled out over many stations in batches, canary first, inside a
maintenance window; station tags for choosing them."""
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from . import Station
from .firmware import FirmwareImage, FirmwareUpdate

__all__ = ["StationTag", "FirmwareCampaign", "CampaignTarget"]


class StationTag(models.Model):
    """A free-form label on a station (e.g. "pilot", "garage-b"), used to choose campaign targets."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name", "station"]
        constraints = [models.UniqueConstraint(fields=["station", "name"],
                                               name="unique_tag_per_station")]

    def __str__(self):
        return f"{self.station.identity}: {self.name}"


class FirmwareCampaign(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft"
        RUNNING = "running"
        PAUSED = "paused"
        AUTO_PAUSED = "auto_paused"
        CANCELLED = "cancelled"
        COMPLETED = "completed"

    name = models.CharField(max_length=100)
    image = models.ForeignKey(FirmwareImage, on_delete=models.PROTECT, related_name="campaigns")
    # The selection, kept as it was made (targets are chosen once, at creation): blank = any.
    filter_vendor = models.CharField(max_length=50, blank=True)
    filter_model = models.CharField(max_length=50, blank=True)
    filter_firmware_version = models.CharField(max_length=50, blank=True)
    filter_tag = models.CharField(max_length=50, blank=True)
    # Explicit station identities (also how a site's stations are chosen: the caller lists them).
    filter_identities = models.JSONField(default=list, blank=True)

    # At most this many updates in progress at once.
    concurrency = models.PositiveIntegerField(default=10, validators=[MinValueValidator(1)])
    # New updates start only between these local times (both blank: any time); start > end
    # wraps past midnight (01:00-05:00, 22:00-04:00).
    window_start = models.TimeField(null=True, blank=True)
    window_end = models.TimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # A failed station gets this many more updates before it counts as failed.
    retries = models.PositiveIntegerField(default=0)
    # The first N targets go alone; the rest follow only if their failure rate <= the threshold.
    canary_size = models.PositiveIntegerField(default=0)
    # Failed / finished (0-1); above it the campaign pauses itself.
    failure_threshold = models.FloatField(
        default=0.2, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])

    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    canary_passed = models.BooleanField(default=False)
    # The failure rate counts targets finished since the start or the operator's last resume.
    rate_since = models.DateTimeField(null=True, blank=True)
    # Why it paused itself, or who paused/cancelled it.
    state_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.image})"

    def clean(self):
        errors = {}
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = f"Unknown timezone {self.timezone!r}."
        if (self.window_start is None) != (self.window_end is None):
            errors["window_end"] = "Give both ends of the maintenance window, or neither."
        elif self.window_start is not None and self.window_start == self.window_end:
            errors["window_end"] = "The maintenance window's start and end must differ."
        if errors:
            raise ValidationError(errors)

    def in_window(self, now):
        """Whether `now` (aware) falls in the maintenance window, in the campaign's timezone."""
        if self.window_start is None or self.window_end is None:
            return True
        local = now.astimezone(zoneinfo.ZoneInfo(self.timezone)).time()
        return time_in_window(local, self.window_start, self.window_end)


def time_in_window(local_time, start, end):
    """start <= t < end; a window with start > end wraps past midnight."""
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end


class CampaignTarget(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        IN_PROGRESS = "in_progress"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        SKIPPED = "skipped"
        # Offline when its turn came: started when the station is back.
        WAITING = "waiting"

    FINAL = {State.SUCCEEDED, State.FAILED, State.SKIPPED}

    campaign = models.ForeignKey(FirmwareCampaign, on_delete=models.CASCADE,
                                 related_name="targets")
    station = models.ForeignKey(Station, on_delete=models.CASCADE,
                                related_name="campaign_targets")
    # Order of turns (0-based); the first canary_size are the canary.
    position = models.PositiveIntegerField()
    update = models.ForeignKey(FirmwareUpdate, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="campaign_targets")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # The firmware status of the last update (DownloadFailed, rejected, ...), and why.
    last_status = models.CharField(max_length=32, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "station"],
                                    name="unique_station_per_campaign"),
        ]
        indexes = [models.Index(fields=["campaign", "state"], name="campaign_target_state_idx")]

    def __str__(self):
        return f"{self.campaign_id}: {self.station.identity} ({self.state})"

    @property
    def is_final(self):
        return self.state in self.FINAL

