"""Profile a CSMS server with py-spy while simulated stations load it; writes the functions
holding the most samples to benchmarks/results/profile-<server>.txt."""

import argparse
import collections
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

PROJECT_APPS = ("csms", "stations", "transactions", "devicemodel", "smartcharging")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--backend", choices=["embedded", "services"], default="embedded")
    parser.add_argument("--charging-share", default="0")
    parser.add_argument("--meter-interval", default="10")
    parser.add_argument("--ramp-up", default="4")
    parser.add_argument("--session-seconds", default="30-60")
    parser.add_argument("--gil", action="store_true", help="only samples holding the GIL (CPU)")
    parser.add_argument("--keep-raw", type=Path, help="copy py-spy's raw samples here")
    options = parser.parse_args()
    common.raise_open_files_limit()
    backend = common.Backend(options.backend)
    server = common.Server(options.server, backend, OCPP_HEARTBEAT_INTERVAL=60).start()
    raw = backend.dir / "profile.raw"
    load = subprocess.Popen(
        [
            common.PYTHON,
            "-m",
            "simulator",
            "--url",
            server.url,
            "-n",
            str(options.stations),
            "--duration",
            str(options.seconds + 10),
            "--ramp-up",
            options.ramp_up,
            "--charging-share",
            options.charging_share,
            "--meter-interval",
            options.meter_interval,
            "--session-seconds",
            options.session_seconds,
            "--idle-seconds",
            "1-5",
            "--progress",
            "5",
            "--prefix",
            "PROF-",
            "--seed",
            "1",
        ],
        cwd=common.ROOT,
        preexec_fn=common.raise_open_files_limit,
    )
    try:
        time.sleep(1)
        subprocess.run(
            [
                "py-spy",
                "record",
                "--pid",
                str(server.process.pid),
                "--duration",
                str(options.seconds),
                "--format",
                "raw",
                "--output",
                str(raw),
                "--nonblocking",
                "--threads",
                *(["--gil"] if options.gil else []),
            ],
            check=True,
            executable=str(Path(common.PYTHON).parent / "py-spy"),
        )
        load.wait(options.seconds + 60)
        if options.keep_raw:
            options.keep_raw.write_bytes(raw.read_bytes())
        own, total = collections.Counter(), collections.Counter()
        samples = 0
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            count = int(count)
            frames = stack.split(";")
            samples += count
            own[frames[-1]] += count
            for frame in set(frames):
                total[frame] += count
    finally:
        if load.poll() is None:
            load.terminate()
        server.stop()
        backend.close()
    lines = [
        f"# py-spy profile of {options.server}, {options.stations} stations, "
        f"charging share {options.charging_share} ({common.now()})",
        f"{samples} samples; top by own time:",
    ]
    lines += [f"{100 * n / samples:5.1f}%  {frame}" for frame, n in own.most_common(25)]
    lines += ["", "top by inclusive time:"]
    lines += [f"{100 * n / samples:5.1f}%  {frame}" for frame, n in total.most_common(45)]
    project = [(frame, n) for frame, n in total.most_common() if any(f"{app}/" in frame for app in PROJECT_APPS)]
    lines += ["", "project code by inclusive time:"]
    lines += [f"{100 * n / samples:5.1f}%  {frame}" for frame, n in project[:40]]
    common.record(f"profile-{options.server}", lines)


if __name__ == "__main__":
    main()
