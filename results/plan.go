package results

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"
)

// Plan is the seeds of a sweep: Count seeds from From, of which this
// process runs shard Shard of Shards (seed s goes to shard s mod Shards).
// A plan is never materialised: Seeds yields its seeds one at a time.
type Plan struct {
	From   uint64 `json:"from"`
	Count  uint64 `json:"count"`
	Shard  uint64 `json:"shard"`
	Shards uint64 `json:"shards"`
}

// Validate reports a plan that is empty or runs past the last seed.
func (p Plan) Validate() error {
	switch {
	case p.Count == 0:
		return errors.New("no seeds: the count is 0")
	case p.Count-1 > math.MaxUint64-p.From:
		return fmt.Errorf("%d seeds from %d: the last seed would be past %d (seeds do not wrap)", p.Count, p.From, uint64(math.MaxUint64))
	case p.Shards == 0 || p.Shard >= p.Shards:
		return fmt.Errorf("shard %d/%d: want K/N with 0 <= K < N", p.Shard, p.Shards)
	}
	return nil
}

// Last is the plan's last seed.
func (p Plan) Last() uint64 { return p.From + p.Count - 1 }

// Len is the number of seeds in this shard.
func (p Plan) Len() uint64 {
	first, ok := p.first()
	if !ok {
		return 0
	}
	return (p.Last()-first)/p.Shards + 1
}

// first is the shard's first seed.
func (p Plan) first() (uint64, bool) {
	off := (p.Shard + p.Shards - p.From%p.Shards) % p.Shards
	if off > p.Count-1 {
		return 0, false
	}
	return p.From + off, true
}

// Seeds yields the shard's seeds in order.
func (p Plan) Seeds() iter.Seq[uint64] {
	return func(yield func(uint64) bool) {
		s, ok := p.first()
		for n := p.Len(); ok && n > 0; n-- {
			if !yield(s) {
				return
			}
			s += p.Shards
		}
	}
}

// Nth is the shard's i-th seed (from 0), in constant time; ok is false
// past its end.
func (p Plan) Nth(i uint64) (seed uint64, ok bool) {
	first, ok := p.first()
	if !ok || i >= p.Len() {
		return 0, false
	}
	return first + i*p.Shards, true
}

// Sharded reports whether the plan is one shard of several.
func (p Plan) Sharded() bool { return p.Shards > 1 }

// ShardString is "K/N".
func (p Plan) ShardString() string { return fmt.Sprintf("%d/%d", p.Shard, p.Shards) }

func (p Plan) String() string {
	s := fmt.Sprintf("seeds %d..%d", p.From, p.Last())
	if p.Sharded() {
		s += fmt.Sprintf(", shard %s (%d seeds)", p.ShardString(), p.Len())
	}
	return s
}

// ParseShard reads "K/N".
func ParseShard(s string) (k, n uint64, err error) {
	a, b, ok := strings.Cut(s, "/")
	k, err1 := strconv.ParseUint(a, 10, 64)
	n, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || n < 1 || k >= n {
		return 0, 0, fmt.Errorf("shard %q: want K/N with 0 <= K < N", s)
	}
	return k, n, nil
}
