package faults

// Shrink minimises a failing schedule with delta debugging (Zeller and
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
	cur := append([]Event(nil), events...)
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
