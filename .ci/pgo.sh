#!/bin/sh
# pgo: regenerates cmd/simrun/default.pgo, the CPU profile the go command
# uses to optimise simrun (profile-guided optimisation: `go build` and
# `go run` of a main package read its default.pgo). The profile is taken
# from a build without one, on the two workloads users run hardest: a
# swarm sweep of 3-Lite seeds (testdata/sweeps/swarm-60s.json) and the
# 1,024-Lite fan-out (testdata/sweeps/fanout-1024.json), about 10 s each,
# merged. PGO changes inlining and devirtualisation only, never what a run
# does: compare trace hashes of a sweep before and after (README, Scale).
# Usage (from the repository root): .ci/pgo.sh
set -eu
[ $# -eq 0 ] || { echo "usage: .ci/pgo.sh   (writes cmd/simrun/default.pgo)" >&2; exit 2; }
GO=${GO:-go}
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

echo "building simrun without a profile..." >&2
(cd "$root" && $GO build -pgo=off -o "$tmp/simrun" ./cmd/simrun)
cd "$root"
echo "profiling a swarm sweep (300 seeds, one core)..." >&2
"$tmp/simrun" sweep -scenario testdata/sweeps/swarm-60s.json -seeds 300 -parallel 1 -progress none -cpuprofile "$tmp/swarm.prof" >/dev/null
echo "profiling the 1,024-Lite fan-out..." >&2
"$tmp/simrun" run -scenario testdata/sweeps/fanout-1024.json -seed 1 -cpuprofile "$tmp/fanout.prof" >/dev/null
$GO tool pprof -proto "$tmp/swarm.prof" "$tmp/fanout.prof" >"$tmp/default.pgo" 2>"$tmp/pprof.err" ||
	{ cat "$tmp/pprof.err" >&2; echo "pgo: merging the profiles failed" >&2; exit 1; }
mv "$tmp/default.pgo" cmd/simrun/default.pgo
echo "wrote cmd/simrun/default.pgo ($(wc -c <cmd/simrun/default.pgo) bytes)" >&2
