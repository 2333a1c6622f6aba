"""A05: raising a station's security profile. The stored profile changes only when the station
connects again over a transport that satisfies the new one; until then the old one is enforced."""
from django.db import models


class SecurityProfileUpgrade(models.Model):
    class State(models.TextChoices):
        IN_PROGRESS = "InProgress"  # the commands are being sent, one after the other
        AWAITING_RECONNECT = "AwaitingReconnect"  # all accepted; the station must come back
        COMPLETED = "Completed"  # it came back with the new profile's transport: profile raised
        REJECTED = "Rejected"  # the station refused a step; nothing changed
        FAILED = "Failed"  # no answer to a step (offline, timeout, CALLERROR); nothing changed
        SUPERSEDED = "Superseded"  # a newer upgrade replaced it

    OPEN = (State.IN_PROGRESS, State.AWAITING_RECONNECT)

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE,
                                related_name="profile_upgrades")
    from_profile = models.PositiveSmallIntegerField()
    to_profile = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.IN_PROGRESS)
    # Index of the step whose command is out (stations/actions/profile_upgrade.py STEPS).
    step = models.PositiveSmallIntegerField(default=0)
    # The command of the current step; every step's command is in the station's command list.
    command = models.ForeignKey("csms.Command", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    # 2.0.1: the network connection profile sent with SetNetworkProfile (null for 1.6).
    configuration_slot = models.PositiveSmallIntegerField(null=True, blank=True)
    ocpp_csms_url = models.CharField(max_length=512, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return (f"Security profile upgrade of {self.station} {self.from_profile}→{self.to_profile} "
                f"({self.state})")
