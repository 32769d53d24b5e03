#!/bin/sh
# bench-compare: one kernel benchmark, an old commit against the working
# tree, run alternately so that a busy VM's drift hits both alike; prints
# the median of each metric. Usage (from the repository root):
#
#   .ci/bench-compare.sh OLD [BENCH] [ROUNDS]
#
# OLD is any git revision; BENCH a benchmark of ./topology without its
# "Benchmark" prefix (default NoFault3Lites), or one of its sub-benchmarks
# (Fanout/Lites=64); ROUNDS the number of old/new pairs (default 10), each
# at -benchtime $BENCHTIME (default 20x). With PGO=1 each side is built
# with its own tree's cmd/simrun/default.pgo, as simrun is (without, if the
# tree has none). When OLD predates the benchmark, the working tree's
# bench_test.go is built against OLD's code instead of OLD's own, and the
# script says so: the same benchmark, the old kernel.
set -eu

usage() {
	echo "usage: .ci/bench-compare.sh OLD [BENCH] [ROUNDS]   (e.g. .ci/bench-compare.sh HEAD~1 SimOverBare 10)" >&2
	exit 2
}
[ $# -ge 1 ] && [ $# -le 3 ] || usage
old=$1
bench=${2:-NoFault3Lites}
rounds=${3:-10}
case $bench in '' | /* | *[!A-Za-z0-9/=]*) echo "bench-compare: BENCH must be a benchmark name such as NoFault3Lites or Fanout/Lites=64, not '$bench'" >&2; exit 2 ;; esac
GO=${GO:-go}
case ${PGO:-} in '' | 0 | 1) ;; *) echo "bench-compare: PGO must be 1 (build each side with its cmd/simrun/default.pgo), 0 or empty (without), not '$PGO'" >&2; exit 2 ;; esac

root=$(git rev-parse --show-toplevel)
. "$root/.ci/bench-lib.sh"
check_rounds bench-compare "$rounds"
rev=$(git -C "$root" rev-parse --verify --quiet "$old^{commit}") ||
	{ echo "bench-compare: '$old' is not a commit in $root" >&2; exit 2; }
tmp=$(mktemp -d)
cleanup() {
	git -C "$root" worktree remove --force "$tmp/old" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

git -C "$root" worktree add --detach --quiet "$tmp/old" "$rev"
echo "building $old ($(git -C "$root" rev-parse --short "$rev")) and the working tree..." >&2
pkg=$(bench_pkg "$tmp/old")
if ! grep -q "^func Benchmark${bench%%/*}(" "$tmp/old/$pkg/bench_test.go"; then
	echo "bench-compare: $old has no Benchmark${bench%%/*}: building the working tree's $pkg/bench_test.go against $old's code" >&2
	cp "$root/$(bench_pkg "$root")/bench_test.go" "$tmp/old/$pkg/bench_test.go"
fi
[ "${PGO:-}" = 1 ] && echo "PGO=1: old $(pgo_flag "$tmp/old" | sed "s|$tmp/old/||"), new $(pgo_flag "$root" | sed "s|$root/||")" >&2
(cd "$tmp/old" && $GO test -c "$(pgo_flag "$tmp/old")" -o "$tmp/old.test" "$pkg")
(cd "$root" && $GO test -c "$(pgo_flag "$root")" -o "$tmp/new.test" "$(bench_pkg "$root")")

bench_rounds bench-compare "$rounds" "$bench" "old new"
echo "($rounds alternating pairs of Benchmark$bench at -benchtime ${BENCHTIME:-20x}${PGO:+, PGO=$PGO})"
