package faults

import (
	"slices"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// Shrink minimises a failing schedule. It first drops whole groups of
// related events (every event on one link, of one kind, on one message
// type), one trial per group, then applies delta debugging (Zeller and
// Hildebrandt's ddmin, 2002): it tries subsets and complements of ever finer
// partitions of the events, keeps any smaller schedule for which fails
// still returns true, and ends with a pass that drops events one at a time.
// fails is called at most maxRuns times; the result is 1-minimal when the
// budget suffices (removing any single event makes it pass).
func Shrink(events []Event, fails func([]Event) bool, maxRuns int) []Event {
	runs := 0
	try := func(c []Event) bool {
		if runs >= maxRuns {
			return false
		}
		runs++
		return fails(c)
	}
	cur := dropGroups(append([]Event(nil), events...), try)
	n := 2
	for len(cur) >= 2 && runs < maxRuns {
		chunks := split(cur, n)
		reduced := false
		for _, c := range chunks { // a chunk alone
			if try(c) {
				cur, n, reduced = c, 2, true
				break
			}
		}
		if !reduced && n > 2 {
			for i := range chunks { // everything but one chunk
				if c := complement(chunks, i); try(c) {
					cur, n, reduced = c, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(cur) {
				break
			}
			n = min(2*n, len(cur))
		}
	}
	for i := 0; i < len(cur) && runs < maxRuns; { // one at a time
		c := append(append([]Event(nil), cur[:i]...), cur[i+1:]...)
		if try(c) {
			cur = c
		} else {
			i++
		}
	}
	if len(cur) == 1 && try(nil) {
		cur = nil
	}
	return cur
}

func split(s []Event, n int) [][]Event {
	var out [][]Event
	for i := 0; i < n; i++ {
		lo, hi := i*len(s)/n, (i+1)*len(s)/n
		if hi > lo {
			out = append(out, s[lo:hi])
		}
	}
	return out
}

func complement(chunks [][]Event, skip int) []Event {
	var out []Event
	for i, c := range chunks {
		if i != skip {
			out = append(out, c...)
		}
	}
	return out
}

// groupKey names a group of related events; each grouping fills one part.
type groupKey struct {
	node, peer sim.NodeID
	link       bool // node and peer are set
	kind       Kind
	typ        wire.MsgType
	hasType    bool
}

// groupings cut a schedule into related events. A swarm run's failure
// usually involves one or two links and a few kinds of fault among
// thousands of events that do not matter; ddmin's blind halves rarely
// separate them, because removing events at random shifts the timing the
// rest depend on, while a whole unrelated link or kind goes in one trial.
var groupings = []func(Event) groupKey{
	func(e Event) groupKey { // a link, in one direction; a node fault's node
		if e.Kind.IsFrame() {
			return groupKey{node: e.Node, peer: e.Peer, link: true}
		}
		return groupKey{node: e.Node}
	},
	func(e Event) groupKey { return groupKey{kind: e.Kind} },
	func(e Event) groupKey { // a message type, on every link
		if !e.Kind.IsFrame() {
			return groupKey{}
		}
		return groupKey{typ: e.Type, hasType: true}
	},
}

// dropGroups removes every group whose removal keeps the schedule failing,
// repeating the groupings until a round removes nothing. Groups are tried
// in the order they first appear, so the result does not depend on map
// order.
func dropGroups(cur []Event, try func([]Event) bool) []Event {
	for changed := true; changed && len(cur) > 1; {
		changed = false
		for _, key := range groupings {
			var keys []groupKey
			seen := map[groupKey]bool{}
			for _, e := range cur {
				if k := key(e); !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
			if len(keys) < 2 {
				continue // the group is the whole schedule: ddmin's business
			}
			for _, k := range keys {
				rest := slices.DeleteFunc(slices.Clone(cur), func(e Event) bool { return key(e) == k })
				if try(rest) {
					cur, changed = rest, true
				}
			}
		}
	}
	return cur
}
