#!/bin/sh
# bench-sweep: issue 21's sweep aim, the elapsed wall time of
#
#   simrun sweep -scenario testdata/sweeps/swarm-60s.json -seeds 1000 -parallel 2 -progress none
#
# as `make build` builds simrun (with cmd/simrun/default.pgo), ROUNDS times;
# with OLD set, simrun at commit OLD and the working tree's in alternating
# pairs (each round starting with the other build), so that a busy VM's
# drift hits both alike. Prints each run, the median per build, and
# whether the sweep summaries (every line but the per-run wall time) are
# the same for every run: a speed-up must not change what the runs do.
# Fails if one build's runs differ from each other (nondeterminism). A
# sweep with failing seeds is timed like any other (its summary says
# which); a sweep that cannot run (bad flags, a scenario file OLD's
# simrun cannot read: both builds run the working tree's
# testdata/sweeps/swarm-60s.json) stops the script.
# Usage (from the repository root):
#
#   .ci/bench-sweep.sh [ROUNDS]          (OLD=f227ddb .ci/bench-sweep.sh 5)
#
# SEEDS (default 1000) and PARALLEL (default 2) change the sweep.
set -eu

[ $# -le 1 ] || { echo "usage: [OLD=COMMIT] .ci/bench-sweep.sh [ROUNDS]   (e.g. OLD=HEAD~1 .ci/bench-sweep.sh 5)" >&2; exit 2; }
rounds=${1:-5}
seeds=${SEEDS:-1000}
parallel=${PARALLEL:-2}
old=${OLD:-}
GO=${GO:-go}
root=$(git rev-parse --show-toplevel)
. "$root/.ci/bench-lib.sh"
check_rounds bench-sweep "$rounds"
case $seeds in '' | *[!0-9]* | 0) echo "bench-sweep: SEEDS must be a positive integer, not '$seeds'" >&2; exit 2 ;; esac
case $parallel in '' | *[!0-9]* | 0) echo "bench-sweep: PARALLEL must be a positive integer, not '$parallel'" >&2; exit 2 ;; esac
case $(date +%N) in *N | '') echo "bench-sweep: needs a date(1) that prints nanoseconds (+%N), as GNU date does" >&2; exit 2 ;; esac

tmp=$(mktemp -d)
cleanup() {
	if [ -n "$old" ]; then
		git -C "$root" worktree remove --force "$tmp/old" >/dev/null 2>&1 || true
		rm -rf "$tmp"
		git -C "$root" worktree prune >/dev/null 2>&1 || true
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

builds=new
if [ -n "$old" ]; then
	rev=$(git -C "$root" rev-parse --verify --quiet "$old^{commit}") ||
		{ echo "bench-sweep: OLD '$old' is not a commit in $root" >&2; exit 2; }
	git -C "$root" worktree add --detach --quiet "$tmp/old" "$rev"
	echo "building $old ($(git -C "$root" rev-parse --short "$rev")) and the working tree..." >&2
	(cd "$tmp/old" && $GO build -o "$tmp/old.simrun" ./cmd/simrun)
	builds="old new"
else
	echo "building the working tree..." >&2
fi
(cd "$root" && $GO build -o "$tmp/new.simrun" ./cmd/simrun)
scenario=$root/testdata/sweeps/swarm-60s.json

# sweep BUILD ROUND: one timed sweep; appends "BUILD wall_s SECONDS" to
# runs (as medians.awk reads them).
sweep() {
	t0=$(date +%s%N)
	rc=0
	"$tmp/$1.simrun" sweep -scenario "$scenario" -seeds "$seeds" -parallel "$parallel" -progress none >"$tmp/out" 2>&1 || rc=$?
	t1=$(date +%s%N)
	# 1: some seed failed, which the summary shows; anything else: no sweep.
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
		echo >&2
		cat "$tmp/out" >&2
		echo "bench-sweep: the $1 build's sweep did not run (exit $rc; its output is above)" >&2
		exit 1
	fi
	grep -v '^wall time in runs:' "$tmp/out" >"$tmp/summary.$1.$2"
	ms=$(((t1 - t0) / 1000000))
	printf '%s wall_s %d.%03d\n' "$1" $((ms / 1000)) $((ms % 1000)) >>"$tmp/runs"
}

: >"$tmp/runs"
i=1
while [ "$i" -le "$rounds" ]; do
	printf '\rround %d/%d' "$i" "$rounds" >&2
	if [ $((i % 2)) -eq 1 ]; then order=$builds; else order=$(echo "$builds" | awk '{ for (j = NF; j >= 1; j--) printf "%s ", $j }'); fi
	for b in $order; do sweep "$b" "$i"; done
	i=$((i + 1))
done
echo >&2

awk '{ printf "run %d, %s: %.2f s\n", NR, $1, $3 }' "$tmp/runs"
awk -v order="$builds" -v spread=1 -f "$root/.ci/medians.awk" "$tmp/runs"
if [ "$seeds" -eq 1000 ] && [ "$parallel" -eq 2 ]; then
	echo "aim (issue 21): wall_s <= 15"
else
	echo "aim (issue 21): 1000 seeds on 2 cores <= 15 s; these runs had $seeds seeds on $parallel, not the aim's sweep"
fi
# The same build must give the same summary every time (else the runs are
# not deterministic: fail); two builds may differ only by a deliberate change.
status=0
for b in $builds; do
	for f in "$tmp"/summary.$b.*; do
		if ! cmp -s "$f" "$tmp/summary.$b.1"; then
			echo "summaries: the $b build's runs DIFFER from each other (nondeterminism):"
			diff "$tmp/summary.$b.1" "$f" | head -20
			status=1
			break
		fi
	done
done
if [ "$status" = 0 ]; then
	if [ -z "$old" ] || cmp -s "$tmp/summary.old.1" "$tmp/summary.new.1"; then
		echo "summaries: every run the same, line for line"
	else
		echo "summaries: each build's runs are the same, but old and new differ (a change to what the runs do):"
		diff "$tmp/summary.old.1" "$tmp/summary.new.1" | head -20
	fi
fi
exit "$status"
