package sim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// Time is simulated time in nanoseconds since the start of a run.
type Time int64

// Units of simulated time.
const (
	Nanosecond  Time = 1
	Microsecond      = 1000 * Nanosecond
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
	Minute           = 60 * Second
)

// Seconds returns t as floating-point seconds (for reports only).
func (t Time) Seconds() float64 { return float64(t) / float64(Second) }

func (t Time) String() string {
	switch {
	case t%Second == 0:
		return fmt.Sprintf("%ds", t/Second)
	case t%Millisecond == 0:
		return fmt.Sprintf("%.3fs", t.Seconds())
	default:
		return fmt.Sprintf("%.9fs", t.Seconds())
	}
}

// Stream derives an independent random stream from the root seed and a
// component name. Streams depend only on (seed, name), so adding a component
// never changes what the others draw.
func Stream(seed uint64, name string) *rand.Rand { return rand.New(Source(seed, name)) }

// Source is Stream's generator itself, for a hot loop that draws raw words:
// calling it directly skips the Rand's interface call and draws the same
// values as the Stream built on it.
func Source(seed uint64, name string) *rand.PCG { return rand.NewPCG(seed, nameHash(name)) }

// StreamSeed is the 128-bit seed of Stream(seed, name): the two words of
// its PCG, for handing a stream to code that builds its own generator.
func StreamSeed(seed uint64, name string) [2]uint64 { return [2]uint64{seed, nameHash(name)} }

// nameHash is FNV-1a 64 of name: the second word of a stream's seed.
func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}
