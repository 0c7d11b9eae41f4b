#!/usr/bin/env bash
# idle-mesh.sh measures the CPU an idle cluster of real iridium processes
# uses: it starts N processes (default 50) on 127.0.0.1, joins each to the
# first, waits for the full mesh, then sums the CPU time (user + system,
# from /proc/PID/stat) all of them use over a window (default 20 s) and
# prints it as a share of one core, and the context switches (wake-ups)
# per node per second. Then, unless DETECT=0, it measures failure
# detection, DETECT_ROUNDS times: it SIGKILLs one node, SIGSTOPs another
# and prints for each how long until every other node announced it lost
# (polled every 20 ms), and pauses a third for a second, which no node
# may announce lost. Build the binary first (make build).
#
# Usage: scripts/idle-mesh.sh [N] [WINDOW_SECONDS]
# Environment: IRIDIUM_BIN (default ./bin/iridium); extra flags for every
# node in IDLE_MESH_FLAGS (such as "--probe-interval 500ms").
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${IRIDIUM_BIN:-./bin/iridium}
count=${1:-50}
window=${2:-20}
[ -x "$bin" ] || { echo "idle-mesh.sh: $bin not found; run 'make build'" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/idle-mesh.XXXXXX")
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
echo "work directory: $work" # scripts/idle-mesh-ab.sh finds the nodes by it
cookie=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

# start_node I LINES...: a scripted REPL fed from a FIFO kept open, so it
# stays up after its commands; its output goes to $work/I.out.
start_node() {
	local i=$1; shift
	mkfifo "$work/$i.in"
	# shellcheck disable=SC2086
	"$bin" -H 127.0.0.1 -P 0 --node-alias "n$i" --data-root-dir "$work/d$i" \
		${IDLE_MESH_FLAGS:-} <"$work/$i.in" >"$work/$i.out" 2>&1 &
	pids+=($!)
	exec {fd}>"$work/$i.in"
	printf '%s\n' "$@" >&$fd
	fds+=("$fd")
}
fds=()
export IRIDIUM_COOKIE=$cookie

start_node 0 '!start_cluster'
for _ in $(seq 100); do
	port=$(sed -n 's/^cluster node listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/0.out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "idle-mesh.sh: the first node did not start:" >&2; cat "$work/0.out" >&2; exit 1; }
for i in $(seq 1 $((count - 1))); do
	start_node "$i" "!join_cluster 127.0.0.1 $port"
	for _ in $(seq 100); do # one join at a time, as a user would
		grep -q '^joined the cluster' "$work/$i.out" && break
		sleep 0.1
	done
done
sleep 5 # let the last fan-out finish
printf '!cluster_members\n' >&"${fds[0]}"
sleep 1
members=$(grep -c '  alive  ' "$work/0.out" || true)
echo "mesh: the first node lists $members alive members besides itself (want $((count - 1)))"

# cpu: CPU time of every thread of every node, in ns (schedstat). A
# thread that ends within the window takes its time with it; a Go node's
# threads live as long as it does.
cpu() {
	local pid
	for pid in "${pids[@]}"; do
		cat /proc/"$pid"/task/*/schedstat
	done | awk '{ n += $1 } END { printf "%.0f\n", n }'
}
switches() { # context switches of every thread of every node
	local sum=0 task
	for pid in "${pids[@]}"; do
		for task in /proc/"$pid"/task/*; do
			sum=$((sum + $(awk '/ctxt_switches/ { n += $2 } END { print n }' "$task/status")))
		done
	done
	echo "$sum"
}
switches_before=$(switches)
before=$(cpu)
sleep "$window"
after=$(cpu)
switches_after=$(switches)
used=$((after - before))
echo "idle mesh of $count processes: $(awk -v u="$used" -v w="$window" 'BEGIN { printf "%.2f s of CPU in %d s: %.1f%% of one core", u / 1e9, w, 100 * u / 1e9 / w }')"
echo "context switches per node per second: $(((switches_after - switches_before) / count / window))"

[ "${DETECT:-1}" = 0 ] && exit 0
# Failure detection, DETECT_ROUNDS times (default 3), each on nodes not
# signalled before: SIGKILL one, SIGSTOP another (SIGCONT once it is
# announced lost), and pause a third for PAUSE seconds (default 1), which
# no node may announce lost. The time is from the signal until the last
# node announced it, polling every 20 ms; only nodes never signalled are
# watched (one that was stopped relinks in the background meanwhile).
touched=" "
# lost_counts I: for each output file, how many lines announce nI lost.
lost_counts() {
	grep -cE "^cluster: \"n$1\" .*(failed|link closed)" "$work"/*.out || true
}
# announced BEFORE NOW: how many untouched nodes announced more losses in
# NOW than in BEFORE (both from lost_counts).
announced() {
	awk -F: -v touched="$touched" 'NR == FNR { before[$1] = $2; next }
		{ n = $1; sub(/.*\//, "", n); sub(/\.out$/, "", n) }
		index(touched, " " n " ") == 0 && $2 > before[$1] { c++ }
		END { print c + 0 }' <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}
untouched_others() { # how many nodes other than I were never signalled
	local n=0 j
	for j in $(seq 0 $((count - 1))); do
		[ "$j" = "$1" ] && continue
		case "$touched" in *" $j "*) continue ;; esac
		n=$((n + 1))
	done
	echo "$n"
}
# detect SIGNAL I: signal node I, wait until every untouched other node
# announced it lost (at most 60 s) and print how long that took.
detect() {
	local sig=$1 i=$2 want base start now got
	want=$(untouched_others "$i")
	base=$(lost_counts "$i")
	start=$(date +%s.%N)
	kill "-$sig" "${pids[$i]}"
	touched="$touched$i "
	while :; do
		got=$(announced "$base" "$(lost_counts "$i")")
		now=$(date +%s.%N)
		[ "$got" -ge "$want" ] && break
		if awk -v s="$start" -v n="$now" 'BEGIN { exit !(n - s > 60) }'; then
			echo "$sig of n$i: not announced everywhere within 60 s ($got of $want)"
			return
		fi
		sleep 0.02
	done
	echo "$sig of n$i: announced lost by all $want others after $(awk -v s="$start" -v n="$now" 'BEGIN { printf "%.2f s", n - s }')"
}
# pause I: stop node I for PAUSE seconds; no untouched node may announce
# it lost, during the pause or within 5 s after.
pause() {
	local i=$1 base got
	base=$(lost_counts "$i")
	kill -STOP "${pids[$i]}"
	sleep "${PAUSE:-1}"
	kill -CONT "${pids[$i]}"
	touched="$touched$i "
	sleep 5
	got=$(announced "$base" "$(lost_counts "$i")")
	echo "pause of n$i for ${PAUSE:-1} s: announced lost by $got nodes (want 0)"
}
for r in $(seq 0 $((${DETECT_ROUNDS:-3} - 1))); do
	victim=$((count - 1 - 3 * r))
	[ "$victim" -ge 3 ] || break
	detect KILL "$victim"
	detect STOP $((victim - 1))
	kill -CONT "${pids[$((victim - 1))]}"
	pause $((victim - 2))
	sleep 2
done
