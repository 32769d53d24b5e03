# bench-lib.sh: what bench-compare.sh and bench-ratio.sh share; sourced.

# check_rounds NAME VALUE: VALUE must be a positive integer.
check_rounds() {
	case $2 in
	'' | *[!0-9]*) echo "$1: ROUNDS must be a positive integer, not '$2'" >&2; exit 2 ;;
	esac
	[ "$2" -ge 1 ] || { echo "$1: ROUNDS must be a positive integer, not '$2'" >&2; exit 2; }
}

# bench_once NAME WHO BINARY BENCH OUT: runs Benchmark$BENCH once at
# -benchtime 20x with the test binary BINARY and appends its figures to OUT
# as "WHO unit value unit value ...". A run that fails, or prints no
# figures, stops the script with the benchmark's own output: a failed
# build must not silently drop out of the medians. The stderr warning of
# the measurement-only builds (simbench_* tags) is expected and dropped.
bench_once() {
	_out=$tmp/bench_once.out
	if ! "$3" -test.run '^$' -test.bench "^Benchmark$4\$" -test.benchtime 20x -test.benchmem >"$_out" 2>&1; then
		echo >&2
		grep -v '^syncsim: built with the simbench_' "$_out" >&2 || true
		echo "$1: Benchmark$4 failed in the $2 build (its output is above)" >&2
		exit 1
	fi
	_line=$(awk -v who="$2" '/^Benchmark/ && $2 ~ /^[0-9]+$/ { printf "%s", who; for (i = 3; i < NF; i += 2) printf " %s %s", $(i+1), $i; print "" }' "$_out")
	if [ -z "$_line" ]; then
		echo >&2
		echo "$1: the $2 build has no Benchmark$4 in ./sim/cluster" >&2
		exit 2
	fi
	echo "$_line" >>"$5"
}
