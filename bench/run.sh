#!/usr/bin/env bash
# bench/run.sh: the VM suite side by side with C Lua 5.4 and LuaJIT's
# interpreter (luajit -joff). Each program runs RUNS times (default 5) per
# engine, the engines alternating within each round so that a change of
# load on the machine hits all of them alike; the figure is the median CPU
# time (user + sys) of whole processes. Prints a table of medians, the
# ratios Iridium / Lua and Iridium / LuaJIT, and their geometric means.
# Each program prints its result; the script checks all three agree.
# IRIDIUM=path runs that iridium binary instead of building bin/iridium.
# `make bench-vs-lua` installs lua5.4 and luajit first when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
PROGRAMS=${PROGRAMS:-"count fib30 fib32 sieve mandelbrot loops_cloop loops_cmp calls"}
for c in lua5.4 luajit; do
  command -v "$c" >/dev/null || { echo "bench/run.sh: $c is not installed (make bench-vs-lua installs it)" >&2; exit 1; }
done
# IRIDIUM=path runs another build (an older one, to compare).
IRIDIUM=${IRIDIUM:-bin/iridium}
if [ "$IRIDIUM" = bin/iridium ]; then
  CGO_ENABLED=0 ${GO:-go} build -tags codec.notfastpath -o bin/iridium ./cmd/iridium # as make build does
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# cpu CMD...: run CMD, print its output's last line and its user+sys seconds.
cpu() {
  local out
  out=$( { /usr/bin/env TIMEFORMAT='%U %S' bash -c 'time "$@" >"$0"' "$tmp/out" "$@"; } 2>&1 )
  echo "$(tail -n1 "$tmp/out") $(echo "$out" | tail -n1 | awk '{printf "%.3f", $1 + $2}')"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $(${GO:-go} version | cut -d' ' -f3), $(lua5.4 -v 2>&1 | cut -d' ' -f1-2), $(luajit -v 2>&1 | cut -d' ' -f1-2) -joff; $RUNS runs, median CPU seconds (user+sys)"
for p in $PROGRAMS; do
  engines=("iridium $IRIDIUM bench/$p.iasm" "lua lua5.4 bench/$p.lua" "luajit luajit -joff bench/$p.lua")
  for ((r = 0; r < RUNS; r++)); do
    for ((k = 0; k < 3; k++)); do
      e=${engines[$(((r + k) % 3))]}
      name=${e%% *}
      read -r result secs <<<"$(cpu ${e#* })"
      echo "$secs" >>"$tmp/$p.$name"
      echo "$result" >>"$tmp/$p.result"
    done
  done
  if [ "$(sort -u "$tmp/$p.result" | wc -l)" != 1 ]; then
    echo "bench/run.sh: $p: the engines disagree: $(sort -u "$tmp/$p.result" | tr '\n' ' ')" >&2
    exit 1
  fi
done

median() { sort -g "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
{
  printf '| program | Iridium s | Lua 5.4 s | LuaJIT -joff s | Iridium/Lua | Iridium/LuaJIT |\n|---|---|---|---|---|---|\n'
  for p in $PROGRAMS; do
    echo "$p $(median "$tmp/$p.iridium") $(median "$tmp/$p.lua") $(median "$tmp/$p.luajit")"
  done | awk '{
      rl = $2 / $3; rj = $2 / $4; gl += log(rl); gj += log(rj); n++
      printf "| %s | %.3f | %.3f | %.3f | %.2f | %.2f |\n", $1, $2, $3, $4, rl, rj
    }
    END { printf "| geometric mean | | | | %.2f | %.2f |\n", exp(gl / n), exp(gj / n) }'
}
