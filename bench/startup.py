#!/usr/bin/env python3
"""Start-up of iridium against lua5.4: run `bin/iridium docs/examples/hello.iasm`,
`bin/iridium --version` (which iridium leaves to iridium-node: the start-up
of every shell, two binaries started by one exec) and `lua5.4 -e ''`
alternately N times each (default 40) and print, for each, the median CPU
time (user + sys), minor page faults and context switches of the child
(from wait4), and the ratio of the hello run's CPU time to lua5.4's.
Run from the top of the repository after `make build`. BEFORE=path adds
a row for that binary's hello run (an older build, to compare).

With --floor, two more programs alternate with them, built first into bin/
(CGO_ENABLED=0): bench/startup-floor, which only imports the libraries
iridium cannot do without (crypto/tls, x/crypto/ssh, readline, color,
log/slog) and prints a line, the floor of any Go binary with them; and
bench/startup-floor-linked, which also links the functions of those
libraries that iridium calls (never called at run time), so that its size
is nearer iridium's. docs/performance.md explains the figures."""
import os
import statistics
import subprocess
import sys

CMDS = {
    "iridium": ["bin/iridium", "docs/examples/hello.iasm"],
    "via node": ["bin/iridium", "--version"],
    "lua5.4": ["lua5.4", "-e", ""],
}
FLOORS = {"floor": "startup-floor", "floor-linked": "startup-floor-linked"}


def run_once(cmd):
    """Runs cmd with its output discarded; returns its CPU seconds, minor
    faults and context switches, from the child's own rusage."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
    finally:
        os.close(devnull)
    _, status, ru = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed: status {status}")
    return ru.ru_utime + ru.ru_stime, ru.ru_minflt, ru.ru_nvcsw + ru.ru_nivcsw


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
    if os.environ.get("BEFORE"):
        CMDS["before"] = [os.environ["BEFORE"], "docs/examples/hello.iasm"]
    samples = {name: [] for name in CMDS}
    for _ in range(runs):
        for name, cmd in CMDS.items():
            samples[name].append(run_once(cmd))
    ms = {}
    for name, got in samples.items():
        ms[name] = statistics.median(g[0] for g in got) * 1000
        faults = statistics.median(g[1] for g in got)
        switches = statistics.median(g[2] for g in got)
        print(f"{name:13} median CPU {ms[name]:6.2f} ms, {faults:5.0f} minor faults, {switches:4.0f} context switches")
    print(f"ratio iridium / lua5.4: {ms['iridium'] / ms['lua5.4']:.2f}")
    for name in FLOORS:
        if name in ms:
            print(f"{name}: {ms[name] / ms['lua5.4']:.2f}x lua5.4; iridium is {ms['iridium'] / ms[name]:.2f}x {name}")


if __name__ == "__main__":
    main()
