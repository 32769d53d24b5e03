#!/usr/bin/env bash
# make live-compare: the same scenario in the simulator and live (reference
# Lites -> simrun proxy -> reference Origin, on loopback), wall time of
# each and the ratio: the time compression the simulator gives.
# Usage: .ci/live-compare.sh [SCENARIO] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-lossy}
seed=${2:-1}
GO=${GO:-go}
$GO build -o bin/simrun ./cmd/simrun
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
now() { date +%s.%N; }

# The simulated run takes milliseconds, much of it process start: the
# median of 5.
for i in 1 2 3 4 5; do
  t0=$(now)
  bin/simrun run -scenario "$scenario" -seed "$seed" > "$tmp/sim.txt" || true
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >> "$tmp/sim-times"
done
sim_s=$(sort -n "$tmp/sim-times" | sed -n 3p)
head -1 "$tmp/sim.txt"

bin/simrun origin -listen 127.0.0.1:0 -scenario "$scenario" -seed "$seed" -quiet -status 0 > "$tmp/origin.txt" &
pids+=($!)
until grep -q 'listening on' "$tmp/origin.txt" 2>/dev/null; do sleep 0.05; done
origin=$(sed -n 's/.*listening on ws:\/\/\([^ ]*\).*/\1/p' "$tmp/origin.txt")
bin/simrun proxy -listen 127.0.0.1:0 -upstream "ws://$origin" -scenario "$scenario" -seed "$seed" -answer-within 1s -quiet -status 0 > "$tmp/proxy.txt" &
proxy_pid=$!
pids+=($proxy_pid)
until grep -q '^proxy ws://' "$tmp/proxy.txt" 2>/dev/null; do sleep 0.05; done
proxy=$(sed -n 's/^proxy ws:\/\/\([^ ]*\).*/\1/p' "$tmp/proxy.txt")
t2=$(now)
status=0
bin/simrun lites -connect "ws://$proxy" -scenario "$scenario" -seed "$seed" -quiet -status 0 > "$tmp/lites.txt" || status=$?
t3=$(now)
live_s=$(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')
sleep 1.2 # the proxy judges pushes once Origin has had its time to answer after heal
kill -INT "$proxy_pid"; wait "$proxy_pid" || true
sed -n 2p "$tmp/lites.txt"
sed -n 2p "$tmp/proxy.txt"
printf '\n%-10s %-10s %10s\n' scenario mode "wall s"
printf '%-10s %-10s %10.3f\n' "$scenario" "simulated" "$sim_s" "$scenario" live "$live_s"
awk -v s="$sim_s" -v l="$live_s" 'BEGIN { printf "the simulator ran it %.0fx faster than the same scenario live\n", l / s }'
exit "$status"
