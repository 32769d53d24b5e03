#!/bin/sh
# bench-ratio: where BenchmarkSimOverBare's ratio goes. Builds the
# benchmark four times, with the trace and with the property checkers (and
# the cluster's counters) compiled in or out by the simbench_notrace and
# simbench_nocheck build tags, runs the four alternately so that a busy
# VM's drift hits all alike, and prints the median of each metric.
# Usage (from the repository root):
#
#   .ci/bench-ratio.sh [ROUNDS]
#
# ROUNDS is the number of rounds (default 10), each running every build
# once at -benchtime 20x. The builds without trace or checkers exist only
# to be measured: they hash and check nothing.
set -eu

[ $# -le 1 ] || { echo "usage: .ci/bench-ratio.sh [ROUNDS]   (e.g. .ci/bench-ratio.sh 10)" >&2; exit 2; }
rounds=${1:-10}
GO=${GO:-go}
root=$(git rev-parse --show-toplevel)
. "$root/.ci/bench-lib.sh"
check_rounds bench-ratio "$rounds"
bench_scratch

builds="full notrace nocheck neither"
tags() {
	case $1 in
	full) echo "" ;;
	notrace) echo "simbench_notrace" ;;
	nocheck) echo "simbench_nocheck" ;;
	neither) echo "simbench_notrace,simbench_nocheck" ;;
	esac
}
echo "building the four variants..." >&2
for b in $builds; do
	(cd "$root" && $GO test -c -tags "$(tags "$b")" -o "$tmp/$b.test" ./topology)
done

bench_rounds bench-ratio "$rounds" SimOverBare "$builds"
echo "($rounds rounds of BenchmarkSimOverBare at -benchtime 20x; notrace: no trace hash or tail;"
echo " nocheck: no property checkers or cluster counters; neither: both left out)"
