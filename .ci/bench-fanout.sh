#!/bin/sh
# bench-fanout: issue 21's flatness aim, ns/frame at 1,024 Lites over
# ns/frame at 64, measured in alternating pairs of one build so that a
# busy VM's drift hits both sizes alike (BenchmarkFanout -count N runs all
# the 64-Lite runs before all the 1,024-Lite ones). Prints each pair and
# the medians. Usage (from the repository root):
#
#   .ci/bench-fanout.sh [ROUNDS]
#
# ROUNDS is the number of pairs (default 5); a pair runs Fanout/Lites=64
# at -benchtime 100x and Fanout/Lites=1024 at 1x, each about 8-10 s: the
# two halves of a pair average over windows of the same length, so that a
# slow minute of this VM weighs on both alike (at 5x, the 64-Lite half
# sampled half a second against the other's ten).
set -eu

[ $# -le 1 ] || { echo "usage: .ci/bench-fanout.sh [ROUNDS]   (e.g. .ci/bench-fanout.sh 5)" >&2; exit 2; }
rounds=${1:-5}
GO=${GO:-go}
root=$(git rev-parse --show-toplevel)
. "$root/.ci/bench-lib.sh"
check_rounds bench-fanout "$rounds"
bench_scratch

echo "building the benchmarks..." >&2
(cd "$root" && $GO test -c -o "$tmp/b.test" "$(bench_pkg "$root")")

# nsframe SIZE TIMES: one run of Fanout/Lites=SIZE; its ns/frame.
nsframe() {
	if ! "$tmp/b.test" -test.run '^$' -test.bench "^BenchmarkFanout/Lites=$1\$" -test.benchtime "$2" >"$tmp/out" 2>&1; then
		echo >&2
		cat "$tmp/out" >&2
		echo "bench-fanout: Fanout/Lites=$1 failed (its output is above)" >&2
		exit 1
	fi
	awk '/^BenchmarkFanout/ { for (i = 3; i < NF; i++) if ($(i+1) == "ns/frame") { print $i; found = 1 } }
		END { if (!found) exit 1 }' "$tmp/out" ||
		{ echo "bench-fanout: no ns/frame from Fanout/Lites=$1" >&2; cat "$tmp/out" >&2; exit 1; }
}

: >"$tmp/pairs"
i=1
while [ "$i" -le "$rounds" ]; do
	printf '\rpair %d/%d' "$i" "$rounds" >&2
	# Alternate which size goes first, as bench-compare alternates builds.
	if [ $((i % 2)) -eq 1 ]; then
		a=$(nsframe 64 100x); b=$(nsframe 1024 1x)
	else
		b=$(nsframe 1024 1x); a=$(nsframe 64 100x)
	fi
	echo "$a $b" >>"$tmp/pairs"
	i=$((i + 1))
done
echo >&2
awk '{ printf "pair %d: 64 Lites %.1f ns/frame, 1,024 Lites %.1f, ratio %.2fx\n", NR, $1, $2, $2 / $1 }' "$tmp/pairs"
# The medians of each size and of the pairs' ratios, with their ranges.
awk '{ printf "pairs 64:ns/frame %s 1024:ns/frame %s ratio %.4f\n", $1, $2, $2 / $1 }' "$tmp/pairs" |
	awk -v order=pairs -v spread=1 -f "$root/.ci/medians.awk"
echo "aim (issue 21): ratio <= 1.3"
