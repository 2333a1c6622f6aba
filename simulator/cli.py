"""Command line of the simulator: `csms-simulate` and `python manage.py simulate` share it."""

import argparse
import asyncio
import json
import logging
import sys

from .fleet import VERSIONS, Fleet, format_summary
from .profile import Profile

MAX_DURATION = 7 * 24 * 3600


def seconds_range(text):
    """'60-300' -> (60.0, 300.0); '30' -> (30.0, 30.0)."""
    low, _, high = text.partition("-")
    try:
        pair = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SECONDS or MIN-MAX, got {text!r}") from None
    if pair[0] <= 0 or pair[1] < pair[0]:
        raise argparse.ArgumentTypeError(f"expected 0 < MIN <= MAX, got {text!r}")
    return pair


def share(text):
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a share is between 0 and 1")
    return value


def positive(kind):
    def parse(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


def identities(text):
    """'all' -> True (every station); 'SIM-00001,SIM-00002' -> a tuple of identities."""
    if text.strip().lower() == "all":
        return True
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_arguments(parser):
    parser.add_argument(
        "--url", default="ws://127.0.0.1:8000/ocpp", help="the CSMS's OCPP endpoint; stations connect to URL/<identity>"
    )
    parser.add_argument("-n", "--count", type=positive(int), default=20, help="stations (20)")
    parser.add_argument(
        "--ocpp-version", choices=sorted(VERSIONS), default="mix", help="2.0.1, 1.6 or mix (alternating); default mix"
    )
    parser.add_argument(
        "--ramp-up", type=float, default=None, help="seconds over which stations start (default count/50)"
    )
    parser.add_argument("--duration", type=positive(float), default=600.0, help="seconds to run before stopping (600)")
    parser.add_argument(
        "--heartbeat-interval",
        type=positive(float),
        default=None,
        help="seconds between heartbeats (default: what the CSMS says at boot)",
    )
    parser.add_argument(
        "--meter-interval", type=positive(float), default=10.0, help="seconds between meter values while charging (10)"
    )
    parser.add_argument(
        "--charging-share", type=share, default=0.3, help="share of stations whose drivers charge, 0..1 (0.3)"
    )
    parser.add_argument(
        "--session-seconds",
        type=seconds_range,
        default=(60.0, 300.0),
        help="length of a charging session, MIN-MAX seconds (60-300)",
    )
    parser.add_argument(
        "--idle-seconds",
        type=seconds_range,
        default=(10.0, 60.0),
        help="pause between sessions on an EVSE, MIN-MAX seconds (10-60)",
    )
    parser.add_argument("--evses", type=positive(int), default=1, help="EVSEs per station (1)")
    parser.add_argument("--max-power", type=positive(float), default=11_000.0, help="charger rating in W (11000)")
    parser.add_argument(
        "--ev-max-power",
        type=positive(float),
        default=None,
        help="what each car takes at most, in W (default: 40-100%% of --max-power, drawn per session)",
    )
    parser.add_argument(
        "--iso15118-share",
        type=share,
        default=0.0,
        help="share of sessions whose car speaks ISO 15118 (2.0.1: NotifyEVChargingNeeds/Schedule), 0..1 (0)",
    )
    parser.add_argument(
        "--iso15118-transfer",
        choices=["AC_three_phase", "DC"],
        default="AC_three_phase",
        help="the energy transfer an ISO 15118 car requests (AC_three_phase)",
    )
    profiles = parser.add_mutually_exclusive_group()
    profiles.add_argument(
        "--keep-profiles-on-reboot",
        dest="keep_profiles_on_reboot",
        action="store_true",
        default=True,
        help="charging profiles survive a reboot (default)",
    )
    profiles.add_argument(
        "--forget-profiles-on-reboot",
        dest="keep_profiles_on_reboot",
        action="store_false",
        help="a reboot (Reset, or a reconnect that boots) loses every charging profile",
    )
    parser.add_argument(
        "--meter-current", action="store_true", help="meter values also carry Current.Import (A per phase)"
    )
    parser.add_argument(
        "--fail-firmware-download",
        type=identities,
        default=(),
        metavar="ID[,ID...]",
        help="these stations' firmware downloads fail ('all' for every station)",
    )
    parser.add_argument(
        "--fail-firmware-install",
        type=identities,
        default=(),
        metavar="ID[,ID...]",
        help="these stations' firmware installs fail ('all' for every station)",
    )
    parser.add_argument(
        "--firmware-sha256",
        default=None,
        help="the SHA-256 (hex) every firmware image must have (default: what the server says, else no check)",
    )
    parser.add_argument(
        "--firmware-next-version",
        default=None,
        help="the version an image brings when the server does not say (X-Firmware-Version) "
        "(default: the version in its file name, else the current one plus one)",
    )
    parser.add_argument(
        "--log-upload",
        choices=["PUT", "POST"],
        default="PUT",
        help="upload logs with HTTP PUT (a raw body, default) or POST (multipart, field 'file')",
    )
    parser.add_argument("--log-binary", action="store_true", help="upload logs gzip-compressed (a binary file)")
    parser.add_argument(
        "--log-size", type=positive(int), default=4096, help="bytes a log is filled up to (4096)"
    )
    parser.add_argument(
        "--customer-information-parts",
        type=positive(int),
        default=3,
        help="NotifyCustomerInformation parts per CustomerInformation request, at least (3)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for repeatable runs")
    parser.add_argument("--prefix", default="SIM-", help="identity prefix (SIM-)")
    parser.add_argument("--first-number", type=int, default=1, help="number of the first identity (1): PREFIX00001")
    parser.add_argument(
        "--password", default=None, help="HTTP Basic password every station presents (security profile 1)"
    )
    parser.add_argument("--no-deflate", action="store_true", help="do not offer permessage-deflate compression")
    parser.add_argument(
        "--boot-on-reconnect",
        action="store_true",
        help="send BootNotification after every reconnect, not only after a reboot",
    )
    parser.add_argument("--progress", type=float, default=2.0, help="seconds between progress lines, 0 for none (2)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def profile_from(options):
    return Profile(
        heartbeat_interval=options["heartbeat_interval"],
        meter_interval=options["meter_interval"],
        charging_share=options["charging_share"],
        session_seconds=options["session_seconds"],
        idle_seconds=options["idle_seconds"],
        max_power_w=options["max_power"],
        ev_max_power_w=options.get("ev_max_power"),
        iso15118_share=options.get("iso15118_share", 0.0),
        iso15118_energy_transfer=options.get("iso15118_transfer", "AC_three_phase"),
        keep_profiles_on_reboot=options.get("keep_profiles_on_reboot", True),
        meter_current=options.get("meter_current", False),
        evses=options["evses"],
        deflate=not options["no_deflate"],
        firmware_download_fails=options.get("fail_firmware_download", ()),
        firmware_install_fails=options.get("fail_firmware_install", ()),
        firmware_sha256=options.get("firmware_sha256"),
        firmware_next_version=options.get("firmware_next_version"),
        log_upload_method=options.get("log_upload", "PUT"),
        log_binary=options.get("log_binary", False),
        log_size_bytes=options.get("log_size", 4096),
        customer_information_parts=options.get("customer_information_parts", 3),
    )


def run(options, out=sys.stdout):
    if options["duration"] > MAX_DURATION:
        raise SystemExit(f"--duration is at most {MAX_DURATION} s")
    count = options["count"]
    ramp_up = options["ramp_up"] if options["ramp_up"] is not None else count / 50
    url = options["url"].rstrip("/")
    if not url.startswith(("ws://", "wss://")):
        raise SystemExit("--url must start with ws:// or wss://")

    async def main():
        fleet = Fleet(
            url,
            count,
            VERSIONS[options["ocpp_version"]],
            profile=profile_from(options),
            ramp_up=ramp_up,
            seed=options["seed"],
            prefix=options["prefix"],
            password=options["password"],
            boot_on_reconnect=options["boot_on_reconnect"],
            first_number=options["first_number"],
        )
        out.write(
            f"{count} stations ({options['ocpp_version']}) -> {url}/<identity>, "
            f"ramp-up {ramp_up:g} s, run {options['duration']:g} s, seed {fleet.seed}\n"
        )
        return await fleet.run(options["duration"], options["progress"], out)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    try:
        summary = asyncio.run(main())
    except KeyboardInterrupt:
        out.write("interrupted\n")
        return None
    out.write(format_summary(summary) + "\n")
    if options["json"]:
        out.write(json.dumps(summary) + "\n")
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="csms-simulate", description="Run simulated OCPP charging stations against a CSMS."
    )
    add_arguments(parser)
    run(vars(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
