"""Summarise a py-spy raw profile (`python benchmarks/profile_report.py FILE`): own time,
inclusive time, and the project's own functions."""

import collections
import sys

PROJECT_APPS = ("csms", "stations", "transactions", "devicemodel", "smartcharging")


def report(path, top=25):
    own, total = collections.Counter(), collections.Counter()
    samples = 0
    with open(path) as raw:
        for line in raw:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            count = int(count)
            frames = stack.split(";")
            samples += count
            own[frames[-1]] += count
            for frame in set(frames):
                total[frame] += count
    lines = [f"{samples} samples; top by own time:"]
    lines += [f"{100 * n / samples:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "top by inclusive time:"]
    lines += [f"{100 * n / samples:5.1f}%  {frame}" for frame, n in total.most_common(top + 20)]
    project = [(frame, n) for frame, n in total.most_common() if any(f"{app}/" in frame for app in PROJECT_APPS)]
    lines += ["", "project code by inclusive time:"]
    lines += [f"{100 * n / samples:5.1f}%  {frame}" for frame, n in project[:40]]
    return lines


if __name__ == "__main__":
    print("\n".join(report(sys.argv[1])))
