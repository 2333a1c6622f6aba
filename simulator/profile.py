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
    extra: dict = field(default_factory=dict)
