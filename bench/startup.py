#!/usr/bin/env python3
"""Start-up of iridium against python3 and Erlang. Runs, alternately, N
times each (default 40):

  bin/iridium docs/examples/hello.iasm   a file run
  bin/iridium --version                  the shell's start-up: the same
                                         binary and initialisation, the
                                         flags, and exit before the shell
  python3 -c ''
  python3 -S -c ''                       no site module, so none of the
                                         .pth files of site-packages, which
                                         some installations fill with
                                         imports: Python's floor here
  erl -noshell -eval 'halt().'

and prints, for each, the median CPU time (user + sys), minor page faults
and context switches of the child and of the children it waited for (from
wait4; erl's beam.smp is one), then the ratios of iridium's two runs to
python3 and erl.

Run from the top of the repository after `make build`. BEFORE=path adds
the hello and --version runs of that iridium binary (an older build, to
compare side by side). PYTHON3 names the interpreter; by default
/usr/bin/python3 when it exists (a pyenv shim on $PATH is a bash script,
whose start-up would be counted too), else python3 from $PATH.
docs/performance.md ("Start-up") explains the figures."""
import os
import statistics
import sys

HELLO = "docs/examples/hello.iasm"
PY, PY_S, ERL = "python3 -c ''", "python3 -S -c ''", "erl halt()."


def python3():
    if os.environ.get("PYTHON3"):
        return os.environ["PYTHON3"]
    return "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else "python3"


def commands():
    cmds = {
        "iridium hello": ["bin/iridium", HELLO],
        "iridium --version": ["bin/iridium", "--version"],
        PY: [python3(), "-c", ""],
        PY_S: [python3(), "-S", "-c", ""],
        ERL: ["erl", "-noshell", "-eval", "halt()."],
    }
    if os.environ.get("BEFORE"):
        cmds["before hello"] = [os.environ["BEFORE"], HELLO]
        cmds["before --version"] = [os.environ["BEFORE"], "--version"]
    return cmds


def run_once(cmd):
    """Runs cmd with its output discarded; returns its CPU seconds, minor
    faults and context switches, from the child's own rusage (which
    counts the children it waited for: erl's beam.smp)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
    finally:
        os.close(devnull)
    _, status, ru = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed: status {status}")
    return ru.ru_utime + ru.ru_stime, ru.ru_minflt, ru.ru_nvcsw + ru.ru_nivcsw


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    cmds = commands()
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"{os.cpu_count()} cores, load {load} at the start; {runs} runs each, alternating")
    samples = {name: [] for name in cmds}
    for _ in range(runs):
        for name, cmd in cmds.items():
            samples[name].append(run_once(cmd))
    ms = {}
    for name, got in samples.items():
        ms[name] = statistics.median(g[0] for g in got) * 1000
        faults = statistics.median(g[1] for g in got)
        switches = statistics.median(g[2] for g in got)
        print(f"{name:18} median CPU {ms[name]:7.2f} ms, {faults:6.0f} minor faults, {switches:4.0f} context switches")
    for run in ("iridium hello", "iridium --version"):
        print(f"{run}: {ms[run] / ms[PY]:.2f}x python3 ({ms[run] / ms[PY_S]:.2f}x with -S), {ms[run] / ms[ERL]:.2f}x erl")
    if "before --version" in ms:
        print(f"--version: {ms['iridium --version'] / ms['before --version']:.2f}x before; "
              f"hello: {ms['iridium hello'] / ms['before hello']:.2f}x before")


if __name__ == "__main__":
    main()
