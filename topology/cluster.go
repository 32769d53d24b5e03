// Package cluster assembles the reference topology: one Origin and N Lites
// on the sim kernel, a seeded workload, the sampled time series and the
// convergence predicate. Scenarios and tests build runs through it.
package topology

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/nodes/lite"
	"github.com/syncsim/syncsim/nodes/origin"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// Params describe a run of the reference topology.
type Params struct {
	Seed        uint64
	Lites       int
	Collections int      // collections c0..c{n-1}; every Lite subscribes to all
	Docs        int      // documents per collection
	LiteRate    float64  // writes per second at each Lite
	OriginRate  float64  // writes per second at Origin
	WriteFor    sim.Time // writes stop after this
	Budget      sim.Time // time allowed to converge after writes stop
	Link        sim.Link // zero: 5 ms + up to 5 ms jitter
	// Faults is the fault plan (no specs: no faults). Script, if not nil,
	// replaces it with a recorded schedule replayed exactly; Faults.Heal
	// is still the heal time.
	Faults faults.Plan
	Script []faults.Event
	// Interceptor overrides the fault injector (tests of the kernel).
	Interceptor sim.Interceptor
	Trace       sim.TraceSink
	Lite        lite.Config   // per-Lite tuning (Origin, PeerID, Collections are set here)
	Origin      origin.Config // Collections is set here
	// Setup runs after the world is built and before it runs: faults
	// schedule themselves here.
	Setup func(c *Cluster)
}

// Defaults returns small, quick parameters.
func Defaults() Params {
	return Params{Lites: 3, Collections: 2, Docs: 32, LiteRate: 20, OriginRate: 20,
		WriteFor: 5 * sim.Second, Budget: 30 * sim.Second}
}

// Validate reports the first parameter that makes no sense.
func (p *Params) Validate() error {
	switch {
	case p.Lites < 1 || p.Lites > 4096:
		return fmt.Errorf("lites = %d: want 1..4096", p.Lites)
	case p.Collections < 1 || p.Collections > 1024:
		return fmt.Errorf("collections = %d: want 1..1024", p.Collections)
	case p.Docs < 1:
		return fmt.Errorf("docs = %d: want at least 1", p.Docs)
	case p.LiteRate < 0 || p.OriginRate < 0:
		return fmt.Errorf("write rates must not be negative")
	case p.WriteFor < 0 || p.Budget <= 0:
		return fmt.Errorf("write_for must be >= 0 and budget > 0")
	}
	if len(p.Faults.Specs) > 0 || p.Script != nil {
		if err := p.Faults.Validate(p.Lites + 1); err != nil {
			return fmt.Errorf("fault plan: %w", err)
		}
	}
	return nil
}

// Cluster is a built, runnable world.
type Cluster struct {
	P      Params
	World  *sim.World
	Origin *origin.Origin
	Lites  []*lite.Lite     // Lite i is node i+1
	Faults *faults.Injector // nil when the run has no faults
	Check  *check.Checker
	colls  []string

	convergedAt sim.Time
	lastDeltas  []uint64
	// per-Lite counts of resync requests sent and answered, sampled as
	// series so reports can mark them
	resyncSent, resyncAnswered []uint64
	marks                      [numMarks]uint64
	// metrics
	resyncBytes uint64
	resendNext  bool // Origin announced that its next ShapeDelta is a re-send
	throttles   map[sim.ConnID]*starve
	maxStarve   sim.Time
}

// starve tracks one throttled session's silences: time without a delta
// while Origin had deltas waiting for it (idle time is not starvation).
// One exists while the session is throttled.
type starve struct {
	c       *Cluster
	conn    sim.ConnID
	last    sim.Time // last delta sent, or the engage
	waiting bool     // Origin has had a backlog for this session since since
	since   sim.Time
}

// silence records the silence ending now, if Origin had a backlog.
func (st *starve) silence(now sim.Time) {
	if st.waiting {
		st.c.maxStarve = max(st.c.maxStarve, now-max(st.last, st.since))
	}
}

// OriginID is the Origin's node id.
const OriginID sim.NodeID = 0

// LiteID returns the node id of Lite i (0-based).
func LiteID(i int) sim.NodeID { return sim.NodeID(i + 1) }

// New builds the world for p.
func New(p Params) (*Cluster, error) { return newWithMonitor(p, nil) }

func newWithMonitor(p Params, monitor sim.Monitor) (*Cluster, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := &Cluster{P: p, convergedAt: -1}
	for i := 0; i < p.Collections; i++ {
		c.colls = append(c.colls, fmt.Sprintf("c%d", i))
	}
	oc := p.Origin
	oc.Collections = c.colls
	c.Origin = origin.New(oc)
	nodes := []sim.NodeSpec{{Name: "origin", Node: c.Origin}}
	for i := 0; i < p.Lites; i++ {
		lc := p.Lite
		lc.Origin, lc.PeerID, lc.Collections = OriginID, uint64(i+1), c.colls
		l := lite.New(lc, sim.Stream(p.Seed, fmt.Sprintf("node/lite%d", i+1)))
		c.Lites = append(c.Lites, l)
		nodes = append(nodes, sim.NodeSpec{Name: fmt.Sprintf("lite%d", i+1), Node: l})
	}
	var link func(from, to sim.NodeID) sim.Link
	if p.Link != (sim.Link{}) {
		link = func(sim.NodeID, sim.NodeID) sim.Link { return p.Link }
	}
	c.lastDeltas = make([]uint64, p.Lites)
	c.resyncSent, c.resyncAnswered = make([]uint64, p.Lites), make([]uint64, p.Lites)
	c.throttles = map[sim.ConnID]*starve{}
	burst := p.Origin.ThrottleBurst
	if burst == 0 {
		burst = 8 // origin.Config's default
	}
	c.Check = check.New(check.Config{Origin: OriginID, ThrottleBurst: burst,
		DefaultRate: p.Origin.DefaultRate, ThrottleLease: p.Origin.ThrottleLease})
	if checking {
		monitor = append(monitors{c.Check, counter{c}}, nonNil(monitor)...)
	}
	icpt := p.Interceptor
	if icpt == nil {
		switch {
		case p.Script != nil:
			c.Faults = faults.Replay(p.Script, p.Faults.Heal)
		case len(p.Faults.Specs) > 0:
			c.Faults = faults.New(p.Faults, p.Seed)
		}
		if c.Faults != nil {
			icpt = c.Faults
		}
	}
	c.World = sim.New(sim.Config{
		Seed:        p.Seed,
		Nodes:       nodes,
		Link:        link,
		Interceptor: icpt,
		Deadline:    p.WriteFor + p.Budget,
		OnSample:    c.sample,
		Workload:    newWorkload(p, c.colls),
		Trace:       p.Trace,
		Monitor:     monitor,
	})
	c.Check.Attach(c.World)
	if c.Faults != nil {
		c.Faults.Attach(c.World)
	}
	if p.Setup != nil {
		p.Setup(c)
	}
	return c, nil
}

// Collections lists the collection names.
func (c *Cluster) Collections() []string { return c.colls }

// Result is a cluster run's outcome.
type Result struct {
	sim.Result
	Converged   bool
	ConvergedAt sim.Time       // first sample after writes stopped at which all had converged
	Divergence  string         // why not, when not converged
	Schedule    []faults.Event // the faults that fired, replayable with Params.Script
	// Violation is the first broken property (safety at once, liveness
	// at the end), or nil when the run passed.
	Violation *check.Violation
	Metrics   Metrics
	// Marks counts how often each mark (see Marks) was hit, by name;
	// marks never hit are absent.
	Marks map[string]uint64
}

// Metrics are a run's measured costs of converging.
type Metrics struct {
	// ConvergeAfter is the time from heal (writes stop) to convergence.
	ConvergeAfter sim.Time
	// ResyncBytes is what repair cost on the wire: ResyncRequests sent by
	// Lites, snapshots, and ShapeDeltas Origin sent a second time.
	ResyncBytes uint64
	// RepairedBytes is the ShapeDelta and snapshot traffic that faults
	// destroyed (dropped or altered), i.e. what resync had to make up for.
	RepairedBytes uint64
	// MaxStarve is the longest time a throttled session went without a
	// ShapeDelta or ShapeSnapshot while Origin had data waiting for it.
	MaxStarve sim.Time
}

// ResyncRatio is ResyncBytes over RepairedBytes (0 when nothing was lost).
func (m Metrics) ResyncRatio() float64 {
	if m.RepairedBytes == 0 {
		return 0
	}
	return float64(m.ResyncBytes) / float64(m.RepairedBytes)
}

// Pass reports whether the run converged with no property violated.
func (r Result) Pass() bool { return r.Violation == nil && r.Converged }

// Run runs the world to convergence or the deadline.
func (c *Cluster) Run() Result {
	r := c.World.Run()
	res := Result{Result: r, ConvergedAt: c.convergedAt, Converged: c.convergedAt >= 0}
	if c.Faults != nil {
		res.Schedule = c.Faults.Events()
	}
	res.Metrics = Metrics{ResyncBytes: c.resyncBytes, MaxStarve: c.maxStarve,
		RepairedBytes: c.World.LostBytes(wire.TypeShapeDelta) + c.World.LostBytes(wire.TypeShapeSnapshot)}
	if res.Converged {
		res.Metrics.ConvergeAfter = res.ConvergedAt - c.P.WriteFor
	}
	res.Marks = map[string]uint64{}
	for i, n := range c.marks {
		if n > 0 {
			res.Marks[markInfo[i].Name] = n
		}
	}
	if v := c.Check.Violation(); v != nil {
		res.Violation = v // a safety violation stopped the run
		res.Converged = false
		res.Divergence = "stopped by a safety violation"
		return res
	}
	c.Check.Final(r.End)
	if !res.Converged {
		node, why := c.divergence()
		res.Divergence = why
		c.Check.Liveness(r.End, node, fmt.Sprintf("not converged %v after writes stopped: %s", r.End-c.P.WriteFor, why))
	}
	res.Violation = c.Check.Violation()
	return res
}

// Run builds and runs p.
func Run(p Params) (Result, error) {
	c, err := New(p)
	if err != nil {
		return Result{}, err
	}
	return c.Run(), nil
}

// sample records the series and stops the run once converged after the
// writes have stopped.
func (c *Cluster) sample(w *sim.World) bool {
	var head uint64
	for _, name := range c.colls {
		head += c.Origin.Head(name)
	}
	for i, l := range c.Lites {
		id := LiteID(i)
		var applied uint64
		for _, name := range c.colls {
			lsn, _, _ := l.Applied(name)
			applied += lsn
		}
		st := l.Status()
		w.Record("applied_lsn", id, float64(applied))
		w.Record("lag", id, float64(head-min(head, applied)))
		w.Record("queue_depth", id, float64(st.QueueDepth))
		w.Record("throttled", id, b2f(st.Throttled))
		on, rate := c.Origin.ThrottleRate(id)
		w.Record("origin_throttled", id, b2f(on))
		w.Record("throttle_rate", id, rate)
		w.Record("unacked", id, float64(st.Unacked))
		sent := w.DeltasSent(OriginID, id)
		w.Record("push_rate", id, float64(sent-c.lastDeltas[i])/sim.Time(100*sim.Millisecond).Seconds())
		c.lastDeltas[i] = sent
		w.Record("resyncs_sent", id, float64(c.resyncSent[i]))
		w.Record("resyncs_answered", id, float64(c.resyncAnswered[i]))
	}
	if w.Now() >= c.P.WriteFor && c.Divergence() == "" {
		c.convergedAt = w.Now()
		return true
	}
	return false
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Divergence returns "" when every Lite holds exactly Origin's state for
// its shapes with nothing pending, else the first reason it does not.
func (c *Cluster) Divergence() string {
	_, why := c.divergence()
	return why
}

func (c *Cluster) divergence() (sim.NodeID, string) {
	if !c.World.Up(OriginID) {
		return OriginID, "origin is down"
	}
	if c.Origin.Throttled() {
		return OriginID, "origin still throttles a peer"
	}
	for i, l := range c.Lites {
		name := c.World.NodeName(LiteID(i))
		st := l.Status()
		switch {
		case !c.World.Up(LiteID(i)):
			return LiteID(i), name + " is down"
		case !st.Connected:
			return LiteID(i), name + " is not connected"
		case st.Unacked > 0:
			return LiteID(i), fmt.Sprintf("%s has %d unacked mutations", name, st.Unacked)
		case st.Resyncing > 0:
			return LiteID(i), fmt.Sprintf("%s has %d unanswered resync requests", name, st.Resyncing)
		case st.Throttled:
			return LiteID(i), name + " is throttled"
		case st.QueueDepth > 0:
			return LiteID(i), fmt.Sprintf("%s has %d queued deltas", name, st.QueueDepth)
		}
		for _, coll := range c.colls {
			lsn, dig, _ := l.Applied(coll)
			if h := c.Origin.Head(coll); lsn != h {
				return LiteID(i), fmt.Sprintf("%s applied LSN %d of %s, origin is at %d", name, lsn, coll, h)
			}
			if d := c.Origin.Digest(coll); dig != d {
				return LiteID(i), fmt.Sprintf("%s holds different %s contents at LSN %d (digest %016x, origin %016x)", name, coll, lsn, dig, d)
			}
		}
	}
	return 0, ""
}

func nonNil(m sim.Monitor) []sim.Monitor {
	if m == nil {
		return nil
	}
	return []sim.Monitor{m}
}

// counter counts each Lite's resync requests and answers for the series.
type counter struct{ c *Cluster }

func (k counter) Step(_ sim.Time, _ sim.NodeID, in *sim.Input, _ bool) {
	if in.Kind == sim.InRestart {
		k.mark(MarkCrashRecovery)
	}
}

// Sent charges resync traffic and measures how long throttled sessions
// with a backlog go without a delta.
func (k counter) Sent(now sim.Time, p *sim.Packet) {
	c := k.c
	switch {
	case p.Type == wire.TypeResyncRequest && p.From != OriginID:
		c.resyncBytes += uint64(len(p.Bytes))
	case p.Type == wire.TypeShapeSnapshot:
		c.resyncBytes += uint64(len(p.Bytes))
		k.fed(now, p.Conn) // a snapshot delivers the whole backlog at once
	case p.Type == wire.TypeShapeDelta && p.From == OriginID:
		if c.resendNext {
			c.resyncBytes += uint64(len(p.Bytes))
			c.resendNext = false
		}
		k.fed(now, p.Conn)
	}
}

// fed ends a throttled session's silence: Origin sent it data.
func (k counter) fed(now sim.Time, conn sim.ConnID) {
	if st := k.c.throttles[conn]; st != nil {
		st.silence(now)
		st.last = now
		st.waiting = false
	}
}
func (counter) AfterStep(sim.Time, sim.NodeID) {}
func (k counter) Observe(now sim.Time, ob *sim.Observation) {
	k.markObservation(ob)
	c := k.c
	switch ob.Kind {
	case sim.ObsResend:
		c.resendNext = true
	case sim.ObsThrottleOn:
		conn := sim.ConnID(ob.A)
		if c.throttles[conn] == nil {
			c.throttles[conn] = &starve{c: c, conn: conn, last: now}
		}
	case sim.ObsThrottleOff:
		if st := c.throttles[sim.ConnID(ob.B)]; st != nil {
			st.silence(now)
			delete(c.throttles, st.conn) // the commit loop below visits only throttled sessions
		}
	case sim.ObsCommit:
		// New data: throttled sessions that were idle now have a backlog.
		for _, st := range c.throttles {
			if !st.waiting && c.Origin.Backlog(st.conn) > 0 {
				st.waiting, st.since = true, now
			}
		}
	}
	i := int(ob.Node) - 1
	if i < 0 || i >= len(k.c.resyncSent) {
		return
	}
	switch ob.Kind {
	case sim.ObsResyncSent:
		k.c.resyncSent[i]++
	case sim.ObsResyncAnswered:
		k.c.resyncAnswered[i]++
	}
}

// monitors fans the kernel's hook out to several monitors.
type monitors []sim.Monitor

func (m monitors) Step(now sim.Time, n sim.NodeID, in *sim.Input, altered bool) {
	for _, x := range m {
		x.Step(now, n, in, altered)
	}
}

func (m monitors) Observe(now sim.Time, ob *sim.Observation) {
	for _, x := range m {
		x.Observe(now, ob)
	}
}

func (m monitors) Sent(now sim.Time, p *sim.Packet) {
	for _, x := range m {
		x.Sent(now, p)
	}
}

func (m monitors) AfterStep(now sim.Time, n sim.NodeID) {
	for _, x := range m {
		x.AfterStep(now, n)
	}
}

// workload writes at each node with exponential inter-arrival times, from
// its own random stream.
type workload struct {
	p     Params
	colls []string
	docs  []string // "d0", "d1", ...: each built once (for the first 4096), not per write
	rng   *rand.Rand
	src   *rand.PCG // rng's source: value bytes are drawn from it directly
}

func newWorkload(p Params, colls []string) *workload {
	src := sim.Source(p.Seed, "workload")
	return &workload{p: p, colls: colls, docs: make([]string, min(p.Docs, 4096)), rng: rand.New(src), src: src}
}

func (w *workload) docID(i int) string {
	if i >= len(w.docs) {
		return "d" + strconv.Itoa(i)
	}
	if w.docs[i] == "" {
		w.docs[i] = "d" + strconv.Itoa(i)
	}
	return w.docs[i]
}

func (w *workload) rate(n sim.NodeID) float64 {
	if n == OriginID {
		return w.p.OriginRate
	}
	return w.p.LiteRate
}

func (w *workload) Next(now sim.Time, n sim.NodeID) (sim.Time, bool) {
	r := w.rate(n)
	if r <= 0 {
		return 0, false
	}
	d := sim.Time(w.rng.ExpFloat64() / r * float64(sim.Second))
	if now+d >= w.p.WriteFor {
		return 0, false
	}
	return max(d, 1), true
}

func (w *workload) Make(_ sim.Time, _ sim.NodeID) sim.Write {
	wr := sim.Write{Collection: w.colls[w.rng.IntN(len(w.colls))], DocID: w.docID(w.rng.IntN(w.p.Docs))}
	if w.rng.IntN(10) > 0 { // one write in ten deletes
		v := make([]byte, 8+w.rng.IntN(25))
		for i := range v {
			v[i] = byte(w.src.Uint64() >> 32) // = byte(w.rng.Uint32()), without the interface call
		}
		wr.Value = v
	}
	return wr
}
