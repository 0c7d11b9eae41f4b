#!/usr/bin/env bash
# bench/dist/run.sh: messages between processes of two nodes on loopback,
# Iridium side by side with Erlang/OTP on this machine.
#
#   pingpong  a process on node b makes TRIPS round trips (default 200,000)
#             to an echo process on node a: round trips per second
#   stream    a process on b sends STREAM integers (default 5,000,000), one
#             message each, to a counter on a: messages per second that
#             arrived (a message to the counter's full mailbox is dropped,
#             as any send to a full mailbox is; the count says so), and the
#             peak RSS of both nodes, sampled every 0.2 s while it runs
#
# Iridium: two iridium REPLs (127.0.0.1 and 127.0.0.2), cookie and link
# defaults as shipped; a's shell spawns the echo or counter here with
# !spawn, and the sender on b with !spawn_on. A figure is the sender's run
# time (its end line says it) less that of the same job made tiny (which
# drops the script's latency out), median of RUNS rounds (default 3).
# Erlang: two nodes (erl -sname, epmd) running bench_dist.erl, which times
# itself. IRIDIUM=path runs that binary instead of building bin/iridium.
# The floor (bench/dist/floor, built here): the same TRIPS round trips of a
# 32-byte message over bare TCP between two processes, server on 127.0.0.1,
# client from 127.0.0.2, TCP_NODELAY, nothing else (no framing, seal,
# cluster, dist or VM), once in each round of Iridium's and of Erlang's;
# no program makes more round trips over loopback TCP on this machine
# than about that. The summary gives the medians and the ratios
# Iridium/Erlang, Iridium/floor and Erlang/floor (each against the floor
# of its own rounds).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
TRIPS=${TRIPS:-200000}
STREAM=${STREAM:-5000000}
IRIDIUM=${IRIDIUM:-bin/iridium}
if [ "$IRIDIUM" = bin/iridium ]; then
  CGO_ENABLED=0 ${GO:-go} build -o bin/iridium ./cmd/iridium
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
${GO:-go} build -o "$tmp/floor" ./bench/dist/floor
fport=$((20000 + RANDOM % 10000))
"$tmp/floor" -serve -port "$fport" &
pids+=($!)
# floor_pp: the floor's round trips/s (retried while the server starts).
floor_pp() {
  local i
  for i in $(seq 50); do
    "$tmp/floor" -port "$fport" -n "$TRIPS" 2>/dev/null | grep -oE '[0-9]+' && return 0
    sleep 0.1
  done
  echo "bench/dist/run.sh: the floor's client did not run" >&2
  exit 1
}

# sized NAME SRC N: copy bench/dist/SRC to $tmp/NAME.iasm with N on the
# line marked "; N".
sized() {
  sed -E "s/#[0-9]+( +; N)\$/#$3\1/" "bench/dist/$2" > "$tmp/$1.iasm"
}
sized ping_big ping.iasm "$TRIPS"
sized ping_small ping.iasm 1000
sized stream_big stream.iasm "$STREAM"
sized stream_small stream.iasm 1000
sized counter_big counter.iasm "$STREAM"
sized counter_small counter.iasm 1000
cp bench/dist/echo.iasm "$tmp/echo.iasm"

# wait_for FILE REGEX: poll FILE until a line after the first $2 lines
# (the offset in $from) matches REGEX, for at most 60 s; print the match.
# It looks every 10 ms for the first second, then every 0.2 s: a poll
# starts three processes, and at 100 a second they took most of a core
# from the nodes while a timed job ran (a job's time comes from its end
# line, not from when this notices it).
wait_for() {
  local file=$1 re=$2 i=0 end=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$end" ]; do
    if tail -n +"$((from + 1))" "$file" | grep -m1 -oE "$re"; then
      return 0
    fi
    i=$((i + 1))
    if [ "$i" -le 100 ]; then sleep 0.01; else sleep 0.2; fi
  done
  echo "bench/dist/run.sh: no \"$re\" in $file:" >&2
  cat "$file" >&2
  exit 1
}
mark() { from=$(wc -l < "$1"); }

cookie=bench-dist-$RANDOM-$RANDOM-$RANDOM
# node NAME HOST FD: an iridium REPL reading the fifo on descriptor FD
node() {
  mkfifo "$tmp/$1.in"
  eval "exec $3<>\"$tmp/$1.in\""
  "$IRIDIUM" ${IRIDIUM_ARGS:-} -H "$2" -P 0 --node-alias "$1" --cookie "$cookie" --data-root-dir "$tmp/$1" \
    < "$tmp/$1.in" > "$tmp/$1.out" 2>&1 &
  pids+=($!)
}
node a 127.0.0.1 7
apid=${pids[-1]}
node b 127.0.0.2 8
bpid=${pids[-1]}
from=0
echo '!start_cluster' >&8
port=$(wait_for "$tmp/b.out" 'listening on 127\.0\.0\.2:[0-9]+' | sed 's/.*://')
echo "!join_cluster 127.0.0.2 $port" >&7
wait_for "$tmp/a.out" 'joined the cluster' >/dev/null

# job_time LOCAL REMOTE: spawn LOCAL here and REMOTE on b, send REMOTE the
# PID of LOCAL, and print REMOTE's run time in seconds once it ends (the
# end line of a job on another member carries its run time).
job_time() {
  mark "$tmp/a.out"
  echo "!spawn $tmp/$1.iasm" >&7
  local rpid lpid t
  lpid=$(wait_for "$tmp/a.out" 'started, process <[0-9]+>' | sed 's/.*process //')
  mark "$tmp/a.out"
  echo "!spawn_on b $tmp/$2.iasm" >&7
  rpid=$(wait_for "$tmp/a.out" 'as <[0-9]+\.[0-9]+>' | sed 's/as //')
  mark "$tmp/a.out"
  echo "!send $rpid $lpid" >&7
  t=$(wait_for "$tmp/a.out" "$2\.iasm done after [0-9.]+(ms|s)" | sed -E 's/.* after //')
  case $t in
    *ms) echo "$t" | sed 's/ms//' | awk '{print $1 / 1000}' ;;
    *s) echo "${t%s}" ;;
  esac
  grep -E "$2\.iasm done" "$tmp/a.out" | tail -1 >> "$tmp/ends"
  echo "!kill $(grep -oE '\[job [0-9]+\]' "$tmp/a.out" | tail -1 | grep -oE '[0-9]+')" >&7
}

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "machine: $(nproc) cores, $(uname -sr); load: $(uptime | sed 's/.*load average: //')"
pp=() st=() fl=()
for r in $(seq "$RUNS"); do
  fl+=("$(floor_pp)")
  big=$(job_time echo ping_big) small=$(job_time echo ping_small)
  pp+=("$(awk -v n="$TRIPS" -v b="$big" -v s="$small" 'BEGIN {printf "%d", n / (b - s)}')")
  ra0=$(rss "$apid") rb0=$(rss "$bpid")
  ( ma=0 mb=0; while kill -0 "$apid" 2>/dev/null; do
      x=$(rss "$apid"); y=$(rss "$bpid"); [ "$x" -gt "$ma" ] && ma=$x; [ "$y" -gt "$mb" ] && mb=$y
      echo "$ma $mb" > "$tmp/peak"; sleep 0.2; done ) &
  sampler=$!
  big=$(job_time counter_big stream_big)
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  small=$(job_time counter_small stream_small)
  got=$(grep stream_big "$tmp/ends" | tail -1 | sed -nE 's/.*[$]7 = ([0-9]+).*/\1/p')
  got=${got:-0}
  # With messages dropped at the counter's full mailbox, the counter ended
  # 1 s after the last one came: count what came, in the time it came.
  st+=("$(awk -v n="$STREAM" -v got="$got" -v b="$big" -v s="$small" 'BEGIN {if (got < n) b -= 1; printf "%d", got / (b - s)}')")
  echo "round $r: floor ${fl[-1]} round trips/s; pingpong ${pp[-1]} round trips/s; stream ${st[-1]} msgs/s ($got of $STREAM arrived), RSS a ${ra0} -> peak $(cut -d' ' -f1 "$tmp/peak") KiB, b ${rb0} -> peak $(cut -d' ' -f2 "$tmp/peak") KiB"
done
ipp=$(printf '%s\n' "${pp[@]}" | median)
ist=$(printf '%s\n' "${st[@]}" | median)
ifl=$(printf '%s\n' "${fl[@]}" | median)

# The cluster layer alone: its own ping-pong between two processes.
${GO:-go} build -o "$tmp/clusterpp" ./bench/dist/clusterpp
cport=$((20000 + RANDOM % 10000))
"$tmp/clusterpp" -serve -port "$cport" &
pids+=($!)
cpp=
for i in $(seq 50); do # until the server listens
  cpp=$("$tmp/clusterpp" -port "$cport" -n "$TRIPS" 2>/dev/null | grep -oE '[0-9]+') && break
  sleep 0.1
done
echo "cluster layer alone (bench/dist/clusterpp): pingpong $cpp round trips/s"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
if [ -n "${SKIP_ERLANG:-}" ]; then
  echo "pingpong: iridium $ipp/s, floor $ifl/s, iridium/floor $(ratio "$ipp" "$ifl")"
  exit 0
fi
# Erlang
erlc -o "$tmp" bench/dist/bench_dist.erl
epmd -daemon
host=$(hostname -s)
erl -sname "bdist_b$$" -setcookie "$cookie" -noshell -pa "$tmp" &
pids+=($!)
for i in $(seq 100); do
  erl -sname "bdist_probe$$" -setcookie "$cookie" -noshell -eval "halt(case net_adm:ping('bdist_b$$@$host') of pong -> 0; _ -> 1 end)." && break
  sleep 0.1
done
epp=() est=() efl=()
for r in $(seq "$RUNS"); do
  efl+=("$(floor_pp)")
  epp+=("$(erl -sname "bdist_a$$" -setcookie "$cookie" -noshell -pa "$tmp" -run bench_dist pingpong "bdist_b$$@$host" "$TRIPS" | grep -oE '[0-9]+')")
  est+=("$(erl -sname "bdist_a$$" -setcookie "$cookie" -noshell -pa "$tmp" -run bench_dist stream "bdist_b$$@$host" "$STREAM" | grep -oE '[0-9]+')")
  echo "erlang round $r: floor ${efl[-1]} round trips/s; pingpong ${epp[-1]} round trips/s; stream ${est[-1]} msgs/s"
done
epp_m=$(printf '%s\n' "${epp[@]}" | median)
efl_m=$(printf '%s\n' "${efl[@]}" | median)
est_m=$(printf '%s\n' "${est[@]}" | median)
printf '%-10s %14s %14s %8s\n' workload iridium erlang ratio
printf '%-10s %14s %14s %8s\n' pingpong "$ipp/s" "$epp_m/s" "$(ratio "$ipp" "$epp_m")"
printf '%-10s %14s %14s %8s\n' "(cluster)" "$cpp/s" "" ""
printf '%-10s %14s %14s %8s\n' stream "$ist/s" "$est_m/s" "$(ratio "$ist" "$est_m")"
echo "floor (bench/dist/floor, bare TCP echo): $ifl round trips/s in iridium's rounds, $efl_m in erlang's; iridium/floor $(ratio "$ipp" "$ifl"), erlang/floor $(ratio "$epp_m" "$efl_m")"
echo "load after: $(uptime | sed 's/.*load average: //')"
