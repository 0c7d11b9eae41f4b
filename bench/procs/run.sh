#!/usr/bin/env bash
# bench/procs/run.sh: the process workloads of bench/procs side by side
# with Erlang/OTP on this machine, and their ratios.
#
#   spawn     N processes that each send "ready" and wait (N = 1,000,000):
#             the time to spawn them all and the memory each takes
#             (growth of the maximum RSS over a run of 1,000, per process)
#   ring      1,000 processes pass a token 1,000 laps: hops per second,
#             Iridium with --threads 1 and with the default threads
#   pingpong  two processes, 1,000,000 round trips: round trips per second
#
# Each figure is a whole run of the binary less a run of the same program
# made tiny (so start-up drops out), median of RUNS rounds (default 5); in
# each round Iridium and Erlang alternate which goes first, so a change of
# load on the machine hits both alike. SPAWN_N, LAPS and TRIPS change the
# sizes. IRIDIUM=path runs that binary instead of building bin/iridium.
# `make bench-procs` installs erlang-base first when it is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-5}
SPAWN_N=${SPAWN_N:-1000000}
LAPS=${LAPS:-1000}
TRIPS=${TRIPS:-1000000}
for c in erl erlc; do
  command -v "$c" >/dev/null || { echo "bench/procs/run.sh: $c is not installed (make bench-procs installs erlang-base)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench/procs/run.sh: needs /usr/bin/time (Debian: apt-get install time)" >&2; exit 1; }
IRIDIUM=${IRIDIUM:-bin/iridium}
if [ "$IRIDIUM" = bin/iridium ]; then
  CGO_ENABLED=0 ${GO:-go} build -o bin/iridium ./cmd/iridium
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
erlc -o "$tmp" bench/procs/*.erl

# sized NAME SRC MARK=VALUE...: copy bench/procs/SRC to $tmp/NAME.iasm with
# the number on each line ending "; MARK" set to VALUE.
sized() {
  local name=$1 src=$2
  shift 2
  cp "bench/procs/$src" "$tmp/$name.iasm"
  for kv in "$@"; do
    sed -i -E "s/#[0-9]+( +; ${kv%%=*})\$/#${kv#*=}\1/" "$tmp/$name.iasm"
  done
}
sized spawn_big spawn.iasm N="$SPAWN_N"
sized spawn_small spawn.iasm N=1000
sized ring_big ring.iasm N=1000 HOPS=$((1000 * LAPS))
sized ring_small ring.iasm N=1000 HOPS=1000
sized pp_big pingpong.iasm N="$TRIPS"
sized pp_small pingpong.iasm N=1

# The runs: a key, then the command.
declare -A cmd=(
  [iridium.spawn_big]="$IRIDIUM $tmp/spawn_big.iasm"
  [iridium.spawn_small]="$IRIDIUM $tmp/spawn_small.iasm"
  [erlang.spawn_big]="erl +P $((SPAWN_N + 100000)) -noshell -pa $tmp -run bench_spawn main $SPAWN_N"
  [erlang.spawn_small]="erl +P $((SPAWN_N + 100000)) -noshell -pa $tmp -run bench_spawn main 1000"
  [iridium1.ring_big]="$IRIDIUM --threads 1 $tmp/ring_big.iasm"
  [iridium1.ring_small]="$IRIDIUM --threads 1 $tmp/ring_small.iasm"
  [iridium.ring_big]="$IRIDIUM $tmp/ring_big.iasm"
  [iridium.ring_small]="$IRIDIUM $tmp/ring_small.iasm"
  [erlang.ring_big]="erl -noshell -pa $tmp -run bench_ring main 1000 $((1000 * LAPS))"
  [erlang.ring_small]="erl -noshell -pa $tmp -run bench_ring main 1000 1000"
  [iridium.pp_big]="$IRIDIUM $tmp/pp_big.iasm"
  [iridium.pp_small]="$IRIDIUM $tmp/pp_small.iasm"
  [erlang.pp_big]="erl -noshell -pa $tmp -run bench_pingpong main $TRIPS"
  [erlang.pp_small]="erl -noshell -pa $tmp -run bench_pingpong main 1"
)
groups=("iridium.spawn erlang.spawn" "iridium1.ring iridium.ring erlang.ring" "iridium.pp erlang.pp")

# measure KEY: run it once; append "wall cpu rss_kB" to $tmp/KEY and its
# last line of output to $tmp/KEY.out.
measure() {
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" ${cmd[$1]} >"$tmp/out"
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$tmp/time" >>"$tmp/$1"
  tail -n1 "$tmp/out" >>"$tmp/$1.out"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "versions: $($IRIDIUM --version), Erlang/OTP $(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().'); $RUNS rounds"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < RUNS; r++)); do
  for g in "${groups[@]}"; do
    read -ra engines <<<"$g"
    n=${#engines[@]}
    for ((k = 0; k < n; k++)); do
      e=${engines[$(((r + k) % n))]}
      measure "${e%%.*}.${e#*.}_big"
      measure "${e%%.*}.${e#*.}_small"
    done
  done
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"

# med KEY FIELD: the median of a column of $tmp/KEY.
med() { cut -d' ' -f"$2" "$tmp/$1" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# net KEY FIELD: big less small.
net() { awk -v a="$(med "$1_big" "$2")" -v b="$(med "$1_small" "$2")" 'BEGIN {print a - b}'; }
for k in "${!cmd[@]}"; do
  if [ "$(sort -u "$tmp/$k.out" | wc -l)" != 1 ]; then
    echo "bench/procs/run.sh: $k printed different results: $(sort -u "$tmp/$k.out" | tr '\n' ' ')" >&2
    exit 1
  fi
done
for w in spawn_big ring_big pp_big; do
  if [ "$(cat "$tmp"/*."$w.out" | sort -u | wc -l)" != 1 ]; then
    echo "bench/procs/run.sh: $w: the engines disagree: $(cat "$tmp"/*."$w.out" | sort -u | tr '\n' ' ')" >&2
    exit 1
  fi
done

printf '\n%-34s %14s %14s %8s   %s\n' "workload" "Iridium" "Erlang" "ratio" "goal"
rate() { awk -v n="$1" -v t="$2" 'BEGIN {if (t <= 0) print "n/a"; else printf "%.0f", n / t}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2fx", a / b}'; }
it=$(net iridium.spawn 1) et=$(net erlang.spawn 1)
printf '%-34s %13ss %13ss %8s   %s\n' "spawn $SPAWN_N: time" "$it" "$et" "$(ratio "$it" "$et")" "<= 0.5x"
ib=$(awk -v k="$(net iridium.spawn 3)" -v n="$SPAWN_N" 'BEGIN {printf "%.0f", k * 1024 / (n - 1000)}')
eb=$(awk -v k="$(net erlang.spawn 3)" -v n="$SPAWN_N" 'BEGIN {printf "%.0f", k * 1024 / (n - 1000)}')
printf '%-34s %14s %14s %8s   %s\n' "spawn $SPAWN_N: bytes a process" "$ib" "$eb" "$(ratio "$ib" "$eb")" "<= 1000 bytes"
hops=$((1000 * LAPS - 1000))
e=$(rate $hops "$(net erlang.ring 1)")
i1=$(rate $hops "$(net iridium1.ring 1)")
i=$(rate $hops "$(net iridium.ring 1)")
printf '%-34s %14s %14s %8s   %s\n' "ring hops/s, --threads 1" "$i1" "$e" "$(ratio "$i1" "$e")" ">= 2x"
printf '%-34s %14s %14s %8s   %s\n' "ring hops/s, default threads" "$i" "$e" "$(ratio "$i" "$e")" ">= 1x"
e=$(rate $((TRIPS - 1)) "$(net erlang.pp 1)")
i=$(rate $((TRIPS - 1)) "$(net iridium.pp 1)")
printf '%-34s %14s %14s %8s   %s\n' "ping-pong round trips/s" "$i" "$e" "$(ratio "$i" "$e")" ">= 2x"
echo
echo "CPU seconds (user+sys), big run less tiny run, medians:"
for g in "${groups[@]}"; do
  for e in $g; do printf '  %-16s %6.2f\n' "$e" "$(net "$e" 2)"; done
done
