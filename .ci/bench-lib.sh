# bench-lib.sh: what bench-compare.sh and bench-ratio.sh share; sourced.
# The caller sets tmp (a scratch directory) and root (the repository).

# bench_pkg DIR: the package that holds the kernel benchmarks in the tree at
# DIR (./topology; ./sim/cluster before the node contract moved it), so that
# an old revision compares with the working tree.
bench_pkg() {
	for _p in topology sim/cluster; do
		[ -f "$1/$_p/bench_test.go" ] && { echo "./$_p"; return; }
	done
	echo "bench: no kernel benchmarks (topology/bench_test.go) in $1" >&2
	exit 2
}

# pgo_flag DIR: the -pgo flag for a build of the tree at DIR. With PGO=1,
# the profile cmd/simrun is built with (DIR/cmd/simrun/default.pgo, so
# each side of a comparison gets its own tree's, and a tree without one is
# built without); otherwise none, as `go test` builds a library package.
pgo_flag() {
	if [ "${PGO:-}" = 1 ] && [ -f "$1/cmd/simrun/default.pgo" ]; then
		echo "-pgo=$1/cmd/simrun/default.pgo"
	else
		echo "-pgo=off"
	fi
}

# bench_scratch: a scratch directory in $tmp, removed when the script
# exits or is interrupted.
bench_scratch() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	trap 'exit 130' INT TERM
}

# check_rounds NAME VALUE: VALUE must be a positive integer.
check_rounds() {
	case $2 in
	'' | *[!0-9]*) ;;
	*) [ "$2" -ge 1 ] && return ;;
	esac
	echo "$1: ROUNDS must be a positive integer, not '$2'" >&2
	exit 2
}

# bench_rounds NAME ROUNDS BENCH "BUILD ...": ROUNDS rounds, each running
# Benchmark$BENCH once at -benchtime $BENCHTIME (default 20x) with every
# build's test binary
# $tmp/BUILD.test in turn (alternating, so that a busy VM's drift hits all
# alike, and each round starting with the next build); then the median of each metric per build, the first build the
# baseline. A run that fails, or prints no figures, stops the script with
# the benchmark's own output: a failed build must not silently drop out of
# the medians. A sub-benchmark's metrics are named after it
# (Lites=64:ns/frame), so that the sizes of one benchmark stay apart. The stderr warning of the measurement-only builds
# (simbench_* tags) is expected and dropped.
bench_rounds() {
	: >"$tmp/runs"
	_i=1
	while [ "$_i" -le "$2" ]; do
		printf '\rround %d/%d' "$_i" "$2" >&2
		# Each round starts with the next build, so that no build always
		# runs first (the first slot of a pair reads differently on a
		# busy VM, even for identical code).
		_rot=$(echo "$4" | awk -v k="$_i" '{ for (j = 0; j < NF; j++) printf "%s ", $((j + k - 1) % NF + 1) }')
		for _b in $_rot; do
			if ! "$tmp/$_b.test" -test.run '^$' -test.bench "^Benchmark$3\$" -test.benchtime "${BENCHTIME:-20x}" -test.benchmem >"$tmp/out" 2>&1; then
				echo >&2
				grep -v '^syncsim: built with the simbench_' "$tmp/out" >&2 || true
				echo "$1: Benchmark$3 failed in the $_b build (its output is above)" >&2
				exit 1
			fi
			# "BUILD unit value unit value ...", from the result line only
			# (a "--- FAIL" line also starts with the benchmark's name).
			awk -v who="$_b" '/^Benchmark/ && $2 ~ /^[0-9]+$/ {
				name = $1; sub(/-[0-9]+$/, "", name); pre = ""
				if (k = index(name, "/")) pre = substr(name, k + 1) ":"
				printf "%s", who; for (i = 3; i < NF; i += 2) printf " %s%s %s", pre, $(i+1), $i; print "" }' "$tmp/out" >>"$tmp/runs"
			grep -q "^$_b " "$tmp/runs" || { echo >&2; echo "$1: the $_b build has no Benchmark$3" >&2; exit 2; }
		done
		_i=$((_i + 1))
	done
	echo >&2
	awk -v order="$4" -f "$root/.ci/medians.awk" "$tmp/runs"
}
