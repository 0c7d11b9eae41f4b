#!/usr/bin/env bash
# demo-cluster.sh opens a three-node Iridium cluster in tmux: three
# `iridium` REPLs, each listening for cluster peers on its own cluster
# address (by default 127.0.0.1 ports 2254, 2255 and 2256). The first
# starts its cluster listener; the second and third join it with
# `!join_cluster HOST:PORT`, then every pane lists the members. Build the
# binary first with `make build`.
#
# Each node gets its own data directory (its node ID lives there) under a
# fresh temporary directory, and all three share one cookie file, so they
# trust each other and nothing else. That directory, cookies included, is
# removed when the tmux session ends (or if this script fails).
#
# Usage: scripts/demo-cluster.sh [HOST:PORT HOST:PORT HOST:PORT]
#   (then: tmux attach -t iridium-demo). The three addresses are the nodes'
#   cluster addresses, each bound with -H HOST -P PORT; they may be
#   addresses of this machine's other interfaces, or 127.0.0.2 and so on.
# Environment: IRIDIUM_BIN (default ./bin/iridium), IRIDIUM_DEMO_SESSION
# (default iridium-demo), IRIDIUM_DEMO_ADDRS (the three addresses, when
# none are given as arguments), IRIDIUM_DEMO_PORTS (three ports on
# 127.0.0.1, default "2254 2255 2256", when no addresses are given),
# IRIDIUM_DEMO_ATTACH=0 to leave the session detached.
set -euo pipefail

cd "$(dirname "$0")/.."
bin=${IRIDIUM_BIN:-./bin/iridium}
session=${IRIDIUM_DEMO_SESSION:-iridium-demo}
aliases=(node1 node2 node3)

die() { echo "demo-cluster.sh: $*" >&2; exit 1; }

if [ $# -gt 0 ]; then
	addrs=("$@")
elif [ -n "${IRIDIUM_DEMO_ADDRS:-}" ]; then
	read -ra addrs <<<"$IRIDIUM_DEMO_ADDRS"
else
	addrs=()
	for port in ${IRIDIUM_DEMO_PORTS:-2254 2255 2256}; do
		addrs+=("127.0.0.1:$port")
	done
fi
[ "${#addrs[@]}" = 3 ] || die "want three cluster addresses HOST:PORT, got ${#addrs[@]}: ${addrs[*]}"
hosts=() ports=()
for addr in "${addrs[@]}"; do
	host=${addr%:*} port=${addr##*:}
	host=${host#[} host=${host%]}
	[[ -n "$host" && "$addr" == *:* && "$port" =~ ^[0-9]+$ ]] || die "$addr is not HOST:PORT (such as 127.0.0.1:2254)"
	hosts+=("$host") ports+=("$port")
done

command -v tmux >/dev/null || die "tmux is not installed (apt install tmux, or brew install tmux)"
[ -x "$bin" ] || die "$bin not found or not executable; run 'make build' first"
if tmux has-session -t "$session" 2>/dev/null; then
	die "tmux session '$session' exists; attach with 'tmux attach -t $session' or end it with 'tmux kill-session -t $session'"
fi
for i in 0 1 2; do
	if (exec 3<>"/dev/tcp/${hosts[$i]}/${ports[$i]}") 2>/dev/null; then
		die "something already listens on ${addrs[$i]} (give other addresses)"
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
	commands+=("$bin --node-alias ${aliases[$i]} --cluster-host ${hosts[$i]} --cluster-port ${ports[$i]} --data-root-dir $dir")
done

# wait_listening I: poll until node I's cluster listener accepts
# connections, for up to ten seconds.
wait_listening() {
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/${hosts[$1]}/${ports[$1]}") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	die "no cluster listener on ${addrs[$1]} after 10s; look at the tmux panes (tmux attach -t $session)"
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
wait_listening 0
for pane in 1 2; do
	tmux send-keys -t "$session:cluster.$pane" "!join_cluster ${addrs[0]}" Enter
	wait_listening "$pane"
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
