#!/usr/bin/env bash
# demo-cluster.sh opens a three-node Iridium cluster on this machine in tmux:
# three `iridium` REPLs listening for cluster peers on 127.0.0.1 ports
# 2254, 2255 and 2256. The first starts its cluster listener; the second
# and third join it with `!join_cluster 127.0.0.1 2254`, then every pane
# lists the members. Build the binary first with `make build`.
#
# Each node gets its own data directory (its node ID lives there) under a
# fresh temporary directory, and all three share one cookie file, so they
# trust each other and nothing else. That directory, cookies included, is
# removed when the tmux session ends (or if this script fails).
#
# Usage: scripts/demo-cluster.sh        (then: tmux attach -t iridium-demo)
# Environment: IRIDIUM_BIN (default ./bin/iridium), IRIDIUM_DEMO_SESSION
# (default iridium-demo), IRIDIUM_DEMO_PORTS (default "2254 2255 2256"),
# IRIDIUM_DEMO_ATTACH=0 to leave the session detached.
set -euo pipefail

cd "$(dirname "$0")/.."
bin=${IRIDIUM_BIN:-./bin/iridium}
session=${IRIDIUM_DEMO_SESSION:-iridium-demo}
host=127.0.0.1
aliases=(node1 node2 node3)

die() { echo "demo-cluster.sh: $*" >&2; exit 1; }

read -ra ports <<<"${IRIDIUM_DEMO_PORTS:-2254 2255 2256}"
[ "${#ports[@]}" = 3 ] || die "IRIDIUM_DEMO_PORTS must name three ports"

command -v tmux >/dev/null || die "tmux is not installed (apt install tmux, or brew install tmux)"
[ -x "$bin" ] || die "$bin not found or not executable; run 'make build' first"
if tmux has-session -t "$session" 2>/dev/null; then
	die "tmux session '$session' exists; attach with 'tmux attach -t $session' or end it with 'tmux kill-session -t $session'"
fi
for port in "${ports[@]}"; do
	if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
		die "something already listens on $host:$port (IRIDIUM_DEMO_PORTS picks others)"
	fi
done

data=$(mktemp -d "${TMPDIR:-/tmp}/iridium-demo.XXXXXX")
# Until the session's watcher below takes over, the data goes with the script.
trap 'rm -rf "$data"' EXIT
trap 'exit 1' HUP INT TERM
cookie=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
commands=()
for i in 0 1 2; do
	dir="$data/${aliases[$i]}"
	mkdir -p "$dir"
	(umask 077 && printf '%s\n' "$cookie" >"$dir/cookie")
	commands+=("$bin --node-alias ${aliases[$i]} -H $host -P ${ports[$i]} --data-root-dir $dir")
done

# wait_listening PORT: poll until the cluster listener on PORT accepts
# connections, for up to ten seconds.
wait_listening() {
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	die "no cluster listener on $host:$1 after 10s; look at the tmux panes (tmux attach -t $session)"
}

tmux new-session -d -s "$session" -n cluster "${commands[0]}"

# Remove the data directory, cookies included, once the session ends: a
# watcher in the background, detached from this script's output, checks
# for the session every second.
(
	trap '' HUP INT TERM # it ends when the session does
	while tmux has-session -t "$session" 2>/dev/null; do
		sleep 1
	done
	rm -rf "$data"
) </dev/null >/dev/null 2>&1 &
trap - EXIT
tmux split-window -t "$session:cluster" -v "${commands[1]}"
tmux split-window -t "$session:cluster" -v "${commands[2]}"
tmux select-layout -t "$session:cluster" even-vertical

sleep 0.5 # let the three REPLs print their prompts
tmux send-keys -t "$session:cluster.0" '!start_cluster' Enter
wait_listening "${ports[0]}"
for pane in 1 2; do
	tmux send-keys -t "$session:cluster.$pane" "!join_cluster $host ${ports[0]}" Enter
	wait_listening "${ports[$pane]}"
done
sleep 0.5 # let the last join's fan-out finish before listing
for pane in 0 1 2; do
	tmux send-keys -t "$session:cluster.$pane" '!cluster_members' Enter
done

echo "Three-node cluster running in tmux session '$session' (data in $data)."
echo "Attach: tmux attach -t $session    End: tmux kill-session -t $session"
if [ "${IRIDIUM_DEMO_ATTACH:-1}" = 1 ] && [ -t 1 ] && [ -z "${TMUX:-}" ]; then
	exec tmux attach -t "$session"
fi
