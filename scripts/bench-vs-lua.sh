#!/usr/bin/env bash
# Runs the two VM benchmarks side by side with C Lua 5.4, whole programs,
# with hyperfine. Installs lua5.4 and hyperfine from Debian when missing
# (as root). The figures go in docs/performance.md with the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
need=""
command -v lua5.4 >/dev/null || need="$need lua5.4"
command -v hyperfine >/dev/null || need="$need hyperfine"
if [ -n "$need" ]; then
  [ "$(id -u)" = 0 ] || { echo "needs:$need (run as root to install)"; exit 1; }
  apt-get update -qq && apt-get install -y -qq $need >/dev/null
fi
make -s build
b=vm/testdata/bench
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(lua5.4 -v 2>&1 | cut -d' ' -f1-2)"
hyperfine --warmup 1 --runs "${RUNS:-10}" -N \
  "bin/iridium $b/count.iasm" "lua5.4 $b/count.lua" \
  "bin/iridium $b/fib.iasm" "lua5.4 $b/fib.lua"
