package faults

import (
	"math"
	"math/rand/v2"

	"github.com/syncsim/syncsim/sim"
)

// Swarm returns the plan a seed picks in swarm mode (Groce et al., "Swarm
// Testing", 2012): each fault kind is on or off by a coin flip, and each
// that is on gets its own intensity, window and target. Many seeds thus
// explore many fault mixes, instead of every run averaging all of them.
// lites is the number of Lites (nodes 1..lites; 0 is Origin).
func Swarm(seed uint64, heal sim.Time, lites int) Plan {
	rng := sim.Stream(seed, "faults/swarm")
	plan := Plan{Heal: heal}
	for len(plan.Specs) == 0 {
		for _, k := range append(append([]Kind(nil), FrameKinds...), NodeKinds...) {
			if rng.IntN(2) == 0 {
				continue
			}
			plan.Specs = append(plan.Specs, swarmSpec(rng, k, heal, lites))
		}
	}
	return plan
}

// logUniform draws from [lo, hi) evenly in log scale: intensities span
// orders of magnitude, and low ones matter as much as high ones.
func logUniform(rng *rand.Rand, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + rng.Float64()*(math.Log(hi)-math.Log(lo)))
}

func swarmSpec(rng *rand.Rand, k Kind, heal sim.Time, lites int) Spec {
	s := Spec{Kind: k}
	// A third of the specs get a sub-window, the rest the whole run.
	if rng.IntN(3) == 0 {
		s.Start = sim.Time(rng.Int64N(int64(heal) * 2 / 3))
		s.End = s.Start + sim.Time(rng.Int64N(int64(heal-s.Start))) + 1
	}
	s.Target, _ = ParseTarget("all")
	if rng.IntN(2) == 0 {
		s.Target, _ = ParseTarget("lite:" + itoa(1+rng.IntN(lites)))
	}
	ms := func(lo, hi int64) sim.Time { return sim.Time(lo+rng.Int64N(hi-lo)) * sim.Millisecond }
	switch k {
	case Drop, Duplicate, Reorder, BitFlip:
		s.Probability = logUniform(rng, 0.002, 0.08)
		if k == Reorder {
			s.For = ms(5, 100)
		}
	case BadType, BadLength, Truncate:
		s.Probability = logUniform(rng, 0.001, 0.02)
	case ForgeDelta, ReplayOld, RewindLSN:
		s.Probability = logUniform(rng, 0.002, 0.05)
	case StaleClock, DelayEngage, ResyncAncient:
		s.Probability = logUniform(rng, 0.05, 0.5)
	case Delay:
		s.Probability, s.For = logUniform(rng, 0.002, 0.02), ms(50, 1000)
	case Partition, PartitionOneWay:
		s.PerSecond, s.For = logUniform(rng, 0.05, 0.5), ms(200, 5000)
	case Reset:
		s.PerSecond = logUniform(rng, 0.05, 1)
	case Crash:
		s.PerSecond, s.For = logUniform(rng, 0.02, 0.3), ms(100, 3000)
		if rng.IntN(4) == 0 {
			s.Target, _ = ParseTarget("origin")
		}
	case CorruptDurable:
		s.PerSecond, s.For = logUniform(rng, 0.02, 0.2), ms(100, 2000)
		if s.Target.kind == tAll {
			s.Target, _ = ParseTarget("lites")
		}
	case SlowConsumer:
		s.PerSecond, s.For, s.Factor = logUniform(rng, 0.05, 0.5), ms(500, 5000), logUniform(rng, 0.005, 0.3)
		if s.Target.kind == tAll {
			s.Target, _ = ParseTarget("lites")
		}
	case Burst:
		s.PerSecond, s.N = logUniform(rng, 0.05, 1), 20+rng.IntN(500)
	case ClockSkew:
		s.PerSecond, s.For = logUniform(rng, 0.05, 0.5), ms(1000, 600000)
		if s.Target.kind == tAll {
			s.Target, _ = ParseTarget("lites")
		}
	}
	return s
}

// Chaos is the plain mix used by `simrun run -chaos`: drop, duplicate,
// reorder and bit flip each with probability p on every frame, resets
// connection resets per second on random Lites, and (when resets > 0) one
// crash of a random node every ten seconds on average, all until heal.
func Chaos(p float64, resets float64, heal sim.Time) Plan {
	all, _ := ParseTarget("all")
	lites, _ := ParseTarget("lites")
	plan := Plan{Heal: heal}
	if p > 0 {
		for _, k := range []Kind{Drop, Duplicate, Reorder, BitFlip} {
			plan.Specs = append(plan.Specs, Spec{Kind: k, Probability: p, Target: all})
		}
	}
	if resets > 0 {
		plan.Specs = append(plan.Specs,
			Spec{Kind: Reset, PerSecond: resets, Target: lites},
			Spec{Kind: Crash, PerSecond: 0.1, Target: all, For: 500 * sim.Millisecond})
	}
	return plan
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
