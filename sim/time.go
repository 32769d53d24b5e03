package sim

import (
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
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

// String is t in seconds, as few digits as exact: 1s, 0.4s, 0.03098241s.
// Every duration syncsim prints takes this one form.
func (t Time) String() string {
	neg := t < 0
	if neg {
		t = -t
	}
	s := strconv.FormatInt(int64(t/Second), 10)
	if frac := int64(t % Second); frac != 0 {
		f := strconv.FormatInt(frac+int64(Second), 10)[1:] // nine digits, zero-padded
		s += "." + strings.TrimRight(f, "0")
	}
	if neg {
		s = "-" + s
	}
	return s + "s"
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
