# syncsim: the two commands a newcomer needs are `make run` and `make test`.
GO ?= go
FUZZTIME ?= 20s
PKGS := ./...

.PHONY: run test vet race bench fuzz sweep build catalogue rapid-bugs

build:
	$(GO) build -o bin/simrun ./cmd/simrun

## run: the default scenario suite on the built-in nodes
run:
	$(GO) run ./cmd/simrun suite

## test: vet, gofmt check, unit/property/golden tests, determinism under -race
## (installs python3 first if it is missing: examples/lite's test runs it)
test: vet
	@.ci/ensure-python3
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) test -count=1 $(PKGS)
	$(GO) test -count=1 -race -run 'Determinism' ./topology

vet:
	$(GO) vet $(PKGS)

## bench: Go benchmarks with allocation figures (PGO=1: built with the
## profile simrun is built with, cmd/simrun/default.pgo)
PGO ?=
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(if $(filter 1,$(PGO)),'-pgo=$(CURDIR)/cmd/simrun/default.pgo') $(PKGS)

## pgo: regenerate cmd/simrun/default.pgo, the CPU profile the go command
## optimises simrun with (a swarm sweep and the 1,024-Lite fan-out)
.PHONY: pgo
pgo:
	GO=$(GO) .ci/pgo.sh

## bench-compare: one kernel benchmark, commit OLD against the working
## tree, alternating ROUNDS times at BENCHTIME each; medians
## (make bench-compare OLD=HEAD~1; BENCH=Fanout/Lites=1024 BENCHTIME=1x;
## PGO=1 builds each side with its own cmd/simrun/default.pgo)
BENCH ?= NoFault3Lites
ROUNDS ?= 10
BENCHTIME ?= 20x
.PHONY: bench-compare
bench-compare:
	@[ -n "$(OLD)" ] || { echo "make bench-compare: set OLD to a commit, e.g. make bench-compare OLD=HEAD~1 BENCH=SimOverBare" >&2; exit 2; }
	GO=$(GO) BENCHTIME='$(BENCHTIME)' PGO='$(PGO)' .ci/bench-compare.sh '$(OLD)' '$(BENCH)' '$(ROUNDS)'

## bench-fanout: ns/frame at 1,024 Lites over 64 (issue 21's flatness aim),
## in ROUNDS alternating pairs of one build; medians (make bench-fanout ROUNDS=5)
.PHONY: bench-fanout
bench-fanout:
	GO=$(GO) .ci/bench-fanout.sh '$(ROUNDS)'

## bench-sweep: issue 21's sweep aim, the wall time of 1,000 seeds of
## testdata/sweeps/swarm-60s.json on 2 cores, ROUNDS times (default 5);
## with OLD, against simrun at commit OLD in alternating pairs; medians,
## and whether every run's summary is the same (make bench-sweep OLD=HEAD~1)
.PHONY: bench-sweep
bench-sweep:
	GO=$(GO) OLD='$(OLD)' .ci/bench-sweep.sh '$(if $(filter file,$(origin ROUNDS)),5,$(ROUNDS))'

## bench-ratio: BenchmarkSimOverBare with the trace and the checkers compiled
## in and out, alternating ROUNDS times; medians (where the ratio goes)
.PHONY: bench-ratio
bench-ratio:
	GO=$(GO) .ci/bench-ratio.sh '$(ROUNDS)'

## fuzz: each fuzz target for FUZZTIME (default 20s)
fuzz:
	@for t in $$($(GO) test -list '^Fuzz' ./wire | grep '^Fuzz'); do \
	  echo "== $$t"; $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) ./wire || exit 1; \
	done

## sweep: long seed sweeps (not part of make test)
SWEEP_SEEDS ?= 10000
RAPID_CHECKS ?= 20000
sweep:
	$(GO) run ./cmd/simrun sweep -scenario swarm -seeds $(SWEEP_SEEDS)
	$(GO) test -count=1 -run 'TestRapidReference' ./scenarios -rapid.checks=$(RAPID_CHECKS)
	@for s in lossy reorder corruption partition-heal crash-restart slow-consumer lost-release; do \
	  $(GO) run ./cmd/simrun sweep -scenario $$s -seeds 1000 -progress lines || exit 1; done

## catalogue: the planted-bug score: which checker catches each bug, how fast
catalogue:
	$(GO) run ./cmd/simrun catalogue

## rapid-bugs: rapid searches a counterexample for each planted bug from scratch
rapid-bugs:
	$(GO) test -count=1 -run 'TestRapidFindsEachBug' -v ./scenarios -args -rapid-bugs.fresh

## live-compare: one scenario simulated and live through simrun proxy; wall
## time of each and the ratio (make live-compare SCENARIO=lossy)
SCENARIO ?= lossy
.PHONY: live-compare
live-compare:
	GO=$(GO) .ci/live-compare.sh '$(SCENARIO)'

## pictures: the figures README.md and docs/plots.md show, from this build
## (cmd/simrun's TestDocPictures fails when they are not this build's)
.PHONY: pictures
pictures: build
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	bin/simrun run -scenario slow-consumer -seed 1 -report "$$tmp/run" >/dev/null && \
	{ bin/simrun run -scenario slow-consumer -seed 1 -bug ignore-throttle -report "$$tmp/bug" >/dev/null || true; } && \
	{ bin/simrun sweep -scenario slow-consumer -seeds 50 -bug ignore-throttle -progress none -report "$$tmp/sweep" >/dev/null || true; } && \
	mkdir -p docs/img && \
	cp "$$tmp/run/lag.png" docs/img/slow-consumer-lag.png && \
	cp "$$tmp/run/push-rate.png" docs/img/slow-consumer-push-rate.png && \
	cp "$$tmp/run/faults.png" docs/img/slow-consumer-faults.png && \
	cp "$$tmp/bug/sequence.svg" docs/img/ignore-throttle-sequence.svg && \
	cp "$$tmp/sweep/fault-kinds.png" docs/img/ignore-throttle-sweep-fault-kinds.png && \
	cp "$$tmp/sweep/violation-times.png" docs/img/ignore-throttle-sweep-violation-times.png && \
	echo "pictures: docs/img/ written"

## e2e: HTML reports of a failing run and a sweep, checked in headless Chromium
.PHONY: e2e
e2e:
	.ci/e2e.sh
