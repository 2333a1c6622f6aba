"""What a simulated fleet does: message rates, charging behaviour, connection options."""

from dataclasses import dataclass, field


@dataclass
class Profile:
    # None: use the interval the CSMS hands out in its BootNotification answer.
    heartbeat_interval: float | None = None
    # Seconds between meter samples of a running transaction (SampledDataCtrlr.TxUpdatedInterval).
    meter_interval: float = 10.0
    # Share of stations (0..1) whose drivers plug in and charge; the others only idle.
    charging_share: float = 0.3
    # Length of a local charging session and the pause between two, in seconds (min, max).
    session_seconds: tuple[float, float] = (60.0, 300.0)
    idle_seconds: tuple[float, float] = (10.0, 60.0)
    # The charger's rating (per EVSE); each session draws a car that takes 40-100 % of it, or
    # ev_max_power_w when set (cars of a known size).
    max_power_w: float = 11_000.0
    ev_max_power_w: float | None = None
    # Share of sessions (0..1) whose car speaks ISO 15118 (2.0.1 stations only): it reports its
    # needs (NotifyEVChargingNeeds) and answers a TxProfile with NotifyEVChargingSchedule.
    iso15118_share: float = 0.0
    iso15118_energy_transfer: str = "AC_three_phase"
    # Whether charging profiles survive a reboot (Reset, or a reconnect that boots again).
    keep_profiles_on_reboot: bool = True
    # Meter values also carry Current.Import (A per phase) beside Power.Active.Import.
    meter_current: bool = False
    evses: int = 1
    # RFID tokens the drivers present; empty: each station's own few regulars, so two stations
    # never present the same card at once (a CSMS refuses that as ConcurrentTx).
    id_tokens: tuple[str, ...] = ()
    # Reconnect backoff (s): doubles from min to max, with jitter, after each failed attempt.
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    # Offer RFC 7692 permessage-deflate, as 2.0.1 stations do where available.
    deflate: bool = True
    call_timeout: float = 30.0
    # Seconds a station "takes to reboot" after a Reset.
    reboot_seconds: float = 1.0
    # Items per NotifyReport part (the station splits a base report in parts of this size).
    report_items_per_part: int = 10
    # Firmware (firmware.py): the version a station boots with (None: the dialect's own); the
    # stations whose downloads or installs fail (True: every one; else a tuple of identities);
    # the SHA-256 (hex) every image must have, and the version an image brings, when the server
    # does not say (X-Checksum-SHA256 / Digest, X-Firmware-Version); seconds an install takes.
    firmware_version: str | None = None
    firmware_download_fails: bool | tuple[str, ...] = False
    firmware_install_fails: bool | tuple[str, ...] = False
    firmware_sha256: str | None = None
    firmware_next_version: str | None = None
    firmware_install_seconds: float = 0.5
    # Logs (logs.py): HTTP PUT (a raw body) or POST (multipart, field "file"); gzip the log
    # (a binary file); the size the log is filled up to with diagnostics lines.
    log_upload_method: str = "PUT"
    log_binary: bool = False
    log_size_bytes: int = 4096
    # Display messages (display.py, 2.0.1): what the display supports; seconds per message of
    # the NormalCycle rotation.
    display_formats: tuple[str, ...] = ("ASCII", "HTML", "URI", "UTF8")
    display_priorities: tuple[str, ...] = ("AlwaysFront", "InFront", "NormalCycle")
    display_states: tuple[str, ...] = ("Charging", "Faulted", "Idle", "Unavailable")
    display_cycle_seconds: float = 5.0
    # NotifyCustomerInformation parts a CustomerInformation request is answered in (at least).
    customer_information_parts: int = 3
    # SetNetworkProfile configuration slots the station has (any other is Rejected).
    network_profile_slots: tuple[int, ...] = (0, 1, 2)
    extra: dict = field(default_factory=dict)
