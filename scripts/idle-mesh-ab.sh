#!/usr/bin/env bash
# idle-mesh-ab.sh compares the idle CPU of two builds side by side: it
# starts two idle meshes of N nodes each (scripts/idle-mesh.sh, one per
# binary) at once, and over the same windows sums each mesh's CPU (every
# thread's, from schedstat) and context switches. Runs one after another
# differ by a third on a shared machine; meshes measured in the same
# windows see the same machine. Two meshes of one binary still differ by
# up to a fifth (each mesh's random slot offsets): swap the binaries and
# run again before trusting a ratio.
#
# Usage: scripts/idle-mesh-ab.sh BIN_A BIN_B [WINDOWS] [WINDOW_SECONDS]
# Environment: N (nodes per mesh, default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 BIN_A BIN_B [WINDOWS] [WINDOW_SECONDS]" >&2; exit 2; }
a=$1 b=$2 windows=${3:-4} window=${4:-20} n=${N:-50}
logs=$(mktemp -d "${TMPDIR:-/tmp}/idle-mesh-ab.XXXXXX")
DETECT=0 IRIDIUM_BIN=$a scripts/idle-mesh.sh "$n" 100000 >"$logs/a" 2>&1 &
pa=$!
DETECT=0 IRIDIUM_BIN=$b scripts/idle-mesh.sh "$n" 100000 >"$logs/b" 2>&1 &
pb=$!
trap 'kill $pa $pb 2>/dev/null; wait 2>/dev/null; rm -rf "$logs"' EXIT
for _ in $(seq 600); do
	grep -q '^mesh:' "$logs/a" && grep -q '^mesh:' "$logs/b" && break
	sleep 1
done
grep -h '^mesh:' "$logs/a" "$logs/b"
nodes() { pgrep -f -- "--data-root-dir $(sed -n 's/^work directory: //p' "$1")/" || true; }
mapfile -t na < <(nodes "$logs/a")
mapfile -t nb < <(nodes "$logs/b")
echo "A ($a): ${#na[@]} nodes, B ($b): ${#nb[@]} nodes"
cpu() { for p in "$@"; do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done | awk '{ n += $1 } END { printf "%.0f\n", n }'; }
switches() { for p in "$@"; do cat /proc/"$p"/task/*/status 2>/dev/null; done | awk '/ctxt_switches/ { n += $2 } END { printf "%.0f\n", n }'; }
for _ in $(seq "$windows"); do
	ca=$(cpu "${na[@]}") cb=$(cpu "${nb[@]}") sa=$(switches "${na[@]}") sb=$(switches "${nb[@]}")
	sleep "$window"
	ca=$(($(cpu "${na[@]}") - ca)) cb=$(($(cpu "${nb[@]}") - cb))
	sa=$(($(switches "${na[@]}") - sa)) sb=$(($(switches "${nb[@]}") - sb))
	awk -v a="$ca" -v b="$cb" -v w="$window" -v sa="$sa" -v sb="$sb" -v n="$n" 'BEGIN {
		printf "A %.2f%%  B %.2f%% of one core (B/A %.2f); context switches per node per second: A %.1f, B %.1f\n",
			100 * a / 1e9 / w, 100 * b / 1e9 / w, b / a, sa / n / w, sb / n / w }'
done
