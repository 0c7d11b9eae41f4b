#!/usr/bin/env python3
"""Start-up of iridium against lua5.4: run `bin/iridium docs/examples/hello.iasm`
and `lua5.4 -e ''` alternately N times each (default 40) and print the median
CPU time (user + sys, from getrusage of the children) of each, and the ratio.
Run from the top of the repository after `make build`.

With --floor, two more programs alternate with them, built first into bin/
(CGO_ENABLED=0): bench/startup-floor, which only imports the libraries
iridium cannot do without (crypto/tls, x/crypto/ssh, readline, color,
log/slog) and prints a line, the floor of any Go binary with them; and
bench/startup-floor-linked, which also links the functions of those
libraries that iridium calls (never called at run time), so that its size
is nearer iridium's. docs/performance.md explains the figures."""
import os
import resource
import statistics
import subprocess
import sys

CMDS = {"iridium": ["bin/iridium", "docs/examples/hello.iasm"], "lua5.4": ["lua5.4", "-e", ""]}
FLOORS = {"floor": "startup-floor", "floor-linked": "startup-floor-linked"}


def cpu(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def build_floors():
    env = dict(os.environ, CGO_ENABLED="0")
    for name, pkg in FLOORS.items():
        subprocess.run(["go", "build", "-o", "bin/" + pkg, "./bench/" + pkg], env=env, check=True)
        CMDS[name] = ["bin/" + pkg]


def main():
    args = [a for a in sys.argv[1:] if a != "--floor"]
    if len(args) < len(sys.argv) - 1:
        build_floors()
    runs = int(args[0]) if args else 40
    times = {name: [] for name in CMDS}
    for _ in range(runs):
        for name, cmd in CMDS.items():
            times[name].append(cpu(cmd))
    ms = {name: statistics.median(t) * 1000 for name, t in times.items()}
    print("median CPU ms: " + ", ".join(f"{name} {v:.2f}" for name, v in ms.items())
          + f"; ratio {ms['iridium'] / ms['lua5.4']:.2f}")
    for name in FLOORS:
        if name in ms:
            print(f"{name}: {ms[name] / ms['lua5.4']:.2f}x lua5.4; iridium is {ms['iridium'] / ms[name]:.2f}x {name}")


if __name__ == "__main__":
    main()
