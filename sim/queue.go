package sim

// evKind is what an event does when it fires.
type evKind uint8

const (
	evInput    evKind = iota + 1 // step a node with a stored input kind (start, restart)
	evDeliver                    // frame bytes arrive at node on conn
	evTimer                      // node timer; tag = node's tag, gen = incarnation
	evConnUp                     // connection opens at node
	evConnDown                   // connection closes at node
	evDialFail                   // dial from node failed
	evWrite                      // workload write at node
	evCall                       // kernel callback (faults, samples); tag indexes calls
)

// event is kept small: the heap moves events by value.
type event struct {
	at      Time
	seq     uint64
	kind    evKind
	in      InputKind
	node    NodeID
	peer    NodeID
	gen     uint32
	altered bool // evDeliver: a fault changed the bytes
	conn    ConnID
	tag     uint64
	buf     []byte
}

// eventQueue is a binary min-heap on (at, seq). Hand-written rather than
// container/heap so that pushes do not box events into interfaces.
type eventQueue struct{ ev []event }

func (q *eventQueue) len() int { return len(q.ev) }

func (q *eventQueue) less(i, j int) bool {
	a, b := &q.ev[i], &q.ev[j]
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (q *eventQueue) push(e event) {
	q.ev = append(q.ev, e)
	i := len(q.ev) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.ev[i], q.ev[p] = q.ev[p], q.ev[i]
		i = p
	}
}

func (q *eventQueue) pop() event {
	top := q.ev[0]
	n := len(q.ev) - 1
	q.ev[0] = q.ev[n]
	q.ev[n] = event{} // release the frame buffer to the GC
	q.ev = q.ev[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && q.less(l, m) {
			m = l
		}
		if r < n && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.ev[i], q.ev[m] = q.ev[m], q.ev[i]
		i = m
	}
	return top
}
