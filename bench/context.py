"""Adds to a benchmark program's JSON the context its figures were measured in.

usage: context.py JSON_FILE MODE "LOAD_BEFORE"
  run by bench/run_all.sh with the PYTHON_EXE the programs were given, right after a program
  ended: MODE is full, quick or smoke, LOAD_BEFORE the 1, 5 and 15 minute load averages read just
  before the program started. Writes the JSON back with a "context" object: the CPython (version,
  GIL or free-threaded, executable), the machine (cores, CPU model), the load averages before and
  after, the date (UTC), the commit of the source tree (with "-dirty" when it has uncommitted
  changes), the mode and the program's number of rounds.
"""
import datetime
import json
import os
import platform
import subprocess
import sys
import sysconfig

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def commit():
    def git(*args):
        return subprocess.run(["git", "-C", HERE, *args], capture_output=True, text=True)
    head = git("rev-parse", "--short=12", "HEAD")
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    dirty = git("diff", "--quiet", "HEAD", "--").returncode != 0
    return head.stdout.strip() + ("-dirty" if dirty else "")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, mode, load_before = sys.argv[1:]
    with open(path) as f:
        figures = json.load(f)
    figures["context"] = {
        "python": platform.python_version(),
        "python_build": "free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else "GIL",
        "python_executable": sys.executable,
        "cores": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_before": [float(x) for x in load_before.split()],
        "load_after": list(os.getloadavg()),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit(),
        "mode": mode,
        "rounds": figures.get("rounds"),
    }
    with open(path, "w") as f:
        json.dump(figures, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
