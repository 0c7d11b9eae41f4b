#!/usr/bin/env python3
"""Start-up of iridium against lua5.4: run `bin/iridium docs/examples/hello.iasm`
and `lua5.4 -e ''` alternately N times each (default 40) and print the median
CPU time (user + sys, from getrusage of the children) of each, and the ratio.
Run from the top of the repository after `make build`."""
import resource
import statistics
import subprocess
import sys

CMDS = {"iridium": ["bin/iridium", "docs/examples/hello.iasm"], "lua5.4": ["lua5.4", "-e", ""]}


def cpu(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    times = {name: [] for name in CMDS}
    for _ in range(runs):
        for name, cmd in CMDS.items():
            times[name].append(cpu(cmd))
    ms = {name: statistics.median(t) * 1000 for name, t in times.items()}
    print("median CPU ms: " + ", ".join(f"{name} {v:.2f}" for name, v in ms.items())
          + f"; ratio {ms['iridium'] / ms['lua5.4']:.2f}")


if __name__ == "__main__":
    main()
