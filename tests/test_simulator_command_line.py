"""`manage.py simulate` runs a fleet against a CSMS URL, prints progress and a summary."""

import json
import subprocess
import sys
import uuid

from stations.models import Station
from tests.conftest import ROOT


def test_simulate_command_runs_a_mixed_fleet(csms):
    prefix = f"CLI-{uuid.uuid4().hex[:6]}-"
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "simulate",
            "--url",
            f"{csms.ws_url}/ocpp",
            "--count",
            "4",
            "--ocpp-version",
            "mix",
            "--duration",  # the run is this long whatever happens: long enough for a loaded machine
            "10",
            "--progress",
            "1",
            "--prefix",
            prefix,
            "--seed",
            "7",
            "--charging-share",
            "0",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("connected 4/4 accepted 4" in line for line in lines), result.stdout
    summary = json.loads(lines[-1])
    assert summary["boots_accepted"] == 4 and summary["call_errors"] == {}
    stations = Station.objects.filter(identity__startswith=prefix)
    assert sorted(stations.values_list("ocpp_version", flat=True)) == ["1.6", "1.6", "2.0.1", "2.0.1"]
    assert all(s.registration_status == "Accepted" for s in stations)


def test_simulate_command_rejects_a_bad_url(csms):
    result = subprocess.run(
        [sys.executable, "manage.py", "simulate", "--url", "http://127.0.0.1:1/ocpp", "--duration", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "ws://" in result.stdout + result.stderr
