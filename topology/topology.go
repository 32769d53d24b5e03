// Package topology assembles a run: one Origin and N Lites built from the
// implementations given per role (the reference nodes, another Go
// implementation, an external process), on the sim kernel, with a seeded
// workload, the fault injector, the property checkers, the sampled time
// series and the convergence verdict, judged from every node's probe.
// Scenarios and tests build runs through it. It names no implementation:
// nodes come from the sim.Impl factories in Params.
package topology

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// The topology's limits: the largest runs it builds. A run inside them
// finishes in minutes on one core; one outside would run for hours or
// exhaust memory, so it is refused before it starts.
const (
	MaxLites       = 4096
	MaxCollections = 1024
	// MaxSimulated bounds write_for and budget each: a day of simulated
	// time (a 3-Lite day runs in about 30 s at flat memory).
	MaxSimulated = 24 * 60 * sim.Minute
	// MaxDeliveries bounds Deliveries: 4,096 Lites writing for 2 s at the
	// default rates are 671 M (the Lites' queues fill and throttle Origin,
	// so fewer frames are sent than that) and run in minutes; the limit
	// leaves room for that run and refuses one several times its size.
	MaxDeliveries = 1e9
)

// Params describe a run.
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
	// Origin and Lite are the implementations of the two roles (required).
	Origin, Lite sim.Impl
	// Faults is the fault plan (no specs: no faults). Script, if not nil,
	// replaces it with a recorded schedule replayed exactly; Faults.Heal
	// is still the heal time.
	Faults faults.Plan
	Script []faults.Event
	// Interceptor overrides the fault injector (tests of the kernel).
	Interceptor sim.Interceptor
	Trace       sim.TraceSink
	// Progress, if set, is told the simulated time now and then (see
	// sim.Config.Progress); it cannot change the run.
	Progress func(now sim.Time)
	// Abort, if set, is asked now and then whether to cut the run short (a
	// user's interrupt; see sim.Config.Abort). Such a run has no verdict:
	// Result.Aborted is set and Pass is false.
	Abort func() bool
	// Witness keeps the frames of the run decoded (Result.Wire), for a
	// report; it reads only, so it cannot change the run either.
	Witness bool
	// NoSeries skips recording the time series (Result.Series stays
	// empty): a sweep keeps none. Sampling, and so the run, is unchanged.
	NoSeries bool
	// Setup runs after the world is built and before it runs: faults
	// schedule themselves here.
	Setup func(c *Cluster)
}

// Defaults returns small, quick parameters.
func Defaults() Params {
	return Params{Lites: 3, Collections: 2, Docs: 32, LiteRate: 20, OriginRate: 20,
		WriteFor: 5 * sim.Second, Budget: 30 * sim.Second}
}

// Deliveries estimates the work of a run: every write is delivered to
// every Lite (each subscribes to every collection), so the frames of a run
// grow with writes × Lites.
func (p *Params) Deliveries() float64 {
	writes := (float64(p.Lites)*p.LiteRate + p.OriginRate) * p.WriteFor.Seconds()
	return writes * float64(p.Lites)
}

// CheckWork refuses a run over MaxDeliveries, saying what to change.
func (p *Params) CheckWork() error {
	if d := p.Deliveries(); d > MaxDeliveries {
		return fmt.Errorf("%d lites writing %g/s each (origin %g/s) for %s make about %.3g deliveries (writes × lites), over the limit of %.3g that a run finishes in minutes: shorten write_for, lower the rates or use fewer lites",
			p.Lites, p.LiteRate, p.OriginRate, p.WriteFor, d, float64(MaxDeliveries))
	}
	return nil
}

// Validate reports the first parameter that makes no sense.
func (p *Params) Validate() error {
	switch {
	case p.Lites < 1 || p.Lites > MaxLites:
		return fmt.Errorf("lites = %d: want 1..%d", p.Lites, MaxLites)
	case p.Collections < 1 || p.Collections > MaxCollections:
		return fmt.Errorf("collections = %d: want 1..%d", p.Collections, MaxCollections)
	case p.Docs < 1:
		return fmt.Errorf("docs = %d: want at least 1", p.Docs)
	case p.LiteRate < 0 || p.OriginRate < 0:
		return fmt.Errorf("write rates must not be negative")
	case p.WriteFor < 0 || p.Budget <= 0:
		return fmt.Errorf("write_for must be >= 0 and budget > 0")
	case p.WriteFor > MaxSimulated || p.Budget > MaxSimulated:
		return fmt.Errorf("write_for %s, budget %s: each must be at most %s", p.WriteFor, p.Budget, MaxSimulated)
	case p.CheckWork() != nil:
		return p.CheckWork()
	case p.Origin.New == nil:
		return errors.New("no implementation given for the origin")
	case p.Lite.New == nil:
		return errors.New("no implementation given for the lites")
	}
	for _, impl := range []sim.Impl{p.Origin, p.Lite} {
		if err := validClaims(impl); err != nil {
			return err
		}
	}
	if len(p.Faults.Specs) > 0 || p.Script != nil {
		if err := p.Faults.Validate(Roles(p.Lites)); err != nil {
			return fmt.Errorf("fault plan: %w", err)
		}
	}
	return nil
}

func validClaims(impl sim.Impl) error {
	for _, prop := range impl.Claims.Properties {
		if _, ok := check.Lookup(prop); !ok {
			return fmt.Errorf("implementation %q claims %q, which is not a property (known: %s)", impl.Name, prop, strings.Join(check.Names(), ", "))
		}
	}
	return nil
}

// Roles is which node plays which part in a topology of lites Lites:
// Origin is node 0, Lite i (from 0) is node i+1.
func Roles(lites int) faults.Roles {
	r := faults.Roles{Origin: OriginID, Lites: make([]sim.NodeID, lites)}
	for i := range r.Lites {
		r.Lites[i] = LiteID(i)
	}
	return r
}

// Cluster is a built, runnable world.
type Cluster struct {
	P      Params
	World  *sim.World
	Faults *faults.Injector // nil when the run has no faults
	Check  *check.Checker
	colls  []string
	// unchecked names the properties this run does not check, and why.
	unchecked []Unchecked
	liveness  bool // convergence is claimed by both roles

	convergedAt sim.Time
	lastDeltas  []uint64
	// per-Lite counts of resync requests sent and answered, sampled as
	// series so reports can mark them
	resyncSent, resyncAnswered []uint64
	marks                      [numMarks]uint64
	// metrics
	resyncBytes uint64
	resendNext  bool // Origin announced that its next ShapeDelta is a re-send
	committed   bool // Origin committed, or fed a throttled session, in the step in progress
	// throttles holds the throttled sessions by connection id (a slice:
	// it is read for every frame Origin sends); idle lists the conns of
	// those not yet known to wait for data, each once: AfterStep's probe
	// asks about those alone.
	throttles []starve // by value: a pointer each was a cache miss per frame at 1,024 Lites
	idle      []sim.ConnID
	maxStarve sim.Time
	// probe answers, reused
	op, lp, asked sim.Probe // asked: AfterStep's, of the idle sessions
	nodes         []sim.Node
	liteQueue     *sim.QueueTerms
	witness       *Witness // nil unless Params.Witness
}

// Unchecked is a property a run does not check: the implementation of the
// role it concerns does not claim it.
type Unchecked struct {
	Property string
	Why      string
}

// starve tracks one throttled session's silences: time without a delta
// while Origin had deltas waiting for it (idle time is not starvation).
// It is in use (on) while the session is throttled.
type starve struct {
	last    sim.Time // last delta sent, or the engage
	since   sim.Time
	on      bool // the session is throttled (the zero starve: it is not)
	waiting bool // Origin has had a backlog for this session since since
	listed  bool // AfterStep's scratch: the probe listed this session
}

// silence records st's silence ending now, if Origin had a backlog.
func (c *Cluster) silence(st *starve, now sim.Time) {
	if st.waiting {
		c.maxStarve = max(c.maxStarve, now-max(st.last, st.since))
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
	c := &Cluster{P: p, convergedAt: -1, colls: Collections(p.Collections)}
	nodes := make([]sim.NodeSpec, 0, p.Lites+1)
	build := func(impl sim.Impl, env sim.Env) error {
		env.Collections = c.colls
		env.Seed = sim.NodeSeed(p.Seed, env.Name)
		env.Rand = rand.New(rand.NewPCG(env.Seed[0], env.Seed[1]))
		n, err := impl.New(env)
		if err != nil {
			for _, built := range nodes {
				if cl, ok := built.Node.(io.Closer); ok {
					cl.Close()
				}
			}
			return fmt.Errorf("%s (%s): %w", env.Name, impl.Name, err)
		}
		nodes = append(nodes, sim.NodeSpec{Name: env.Name, Node: n})
		return nil
	}
	if err := build(p.Origin, sim.Env{ID: OriginID, Name: "origin", Role: sim.RoleOrigin}); err != nil {
		return nil, err
	}
	for i := 0; i < p.Lites; i++ {
		env := sim.Env{ID: LiteID(i), Name: fmt.Sprintf("lite%d", i+1), Role: sim.RoleLite, Origin: OriginID, PeerID: uint64(i + 1)}
		if err := build(p.Lite, env); err != nil {
			return nil, err
		}
	}
	var link func(from, to sim.NodeID) sim.Link
	if p.Link != (sim.Link{}) {
		link = func(sim.NodeID, sim.NodeID) sim.Link { return p.Link }
	}
	for _, n := range nodes {
		c.nodes = append(c.nodes, n.Node)
	}
	claimsOf(&c.P.Origin, nodes[0].Node)
	claimsOf(&c.P.Lite, nodes[1].Node)
	for _, impl := range []sim.Impl{c.P.Origin, c.P.Lite} {
		if err := validClaims(impl); err != nil {
			c.Close()
			return nil, err
		}
	}
	c.liteQueue = c.P.Lite.Claims.Queue
	c.lastDeltas = make([]uint64, p.Lites)
	c.resyncSent, c.resyncAnswered = make([]uint64, p.Lites), make([]uint64, p.Lites)
	c.Check = check.New(c.checkConfig())
	if p.Witness {
		c.witness = NewWitness()
		if monitor == nil {
			monitor = c.witness
		} else {
			monitor = both{monitor, c.witness}
		}
	}
	if checking {
		monitor = &monitors{check: c.Check, count: counter{c}, more: monitor}
	}
	icpt := p.Interceptor
	if icpt == nil {
		switch {
		case p.Script != nil:
			c.Faults = faults.Replay(p.Script, p.Faults.Heal, Roles(p.Lites))
		case len(p.Faults.Specs) > 0:
			c.Faults = faults.New(p.Faults, p.Seed, Roles(p.Lites))
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
		Progress:    p.Progress,
		Abort:       p.Abort,
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

// Close releases what the nodes hold outside the run (processes, state
// directories): every node that is an io.Closer is closed. Run does it at
// the end; call it for a Cluster that is built and never run.
func (c *Cluster) Close() {
	for _, n := range c.nodes {
		if cl, ok := n.(io.Closer); ok {
			cl.Close()
		}
	}
}

func (c *Cluster) implOf(n sim.NodeID) string {
	if n == OriginID {
		return c.P.Origin.Name
	}
	return c.P.Lite.Name
}

// claimsOf is what the nodes of a role claim: the first node's own word
// when it gives one (sim.Claimer), else the implementation's.
func claimsOf(impl *sim.Impl, first sim.Node) {
	if cl, ok := first.(sim.Claimer); ok {
		impl.Claims = cl.Claims()
	}
}

// checkConfig turns the two implementations' claims into what the checker
// checks: a property is checked when the implementation of the role it
// concerns claims it (convergence: when both do).
func (c *Cluster) checkConfig() check.Config {
	p := c.P
	cfg := check.Config{Origin: OriginID, PeerOf: func(n sim.NodeID) uint64 { return uint64(n) }, Check: []string{}}
	for _, prop := range check.Properties() {
		var claimed bool
		var by []string
		switch prop.Concerns {
		case sim.RoleOrigin:
			claimed = p.Origin.Claims.Claims(prop.Name)
			by = []string{"the origin (" + p.Origin.Name + ")"}
		case sim.RoleLite:
			claimed = p.Lite.Claims.Claims(prop.Name)
			by = []string{"the lites (" + p.Lite.Name + ")"}
		default:
			claimed = p.Origin.Claims.Claims(prop.Name) && p.Lite.Claims.Claims(prop.Name)
			for _, x := range []struct {
				role string
				impl sim.Impl
			}{{"the origin", p.Origin}, {"the lites", p.Lite}} {
				if !x.impl.Claims.Claims(prop.Name) {
					by = append(by, x.role+" ("+x.impl.Name+")")
				}
			}
		}
		if !claimed {
			c.unchecked = append(c.unchecked, Unchecked{prop.Name, "not claimed by " + joinAnd(by)})
			continue
		}
		cfg.Check = append(cfg.Check, prop.Name)
	}
	c.liveness = p.Origin.Claims.Claims(check.Convergence) && p.Lite.Claims.Claims(check.Convergence)
	if p.Origin.Claims.Claims(check.ThrottleRate) {
		if cfg.Throttle = p.Origin.Claims.Throttle; cfg.Throttle == nil {
			c.unchecked = append(c.unchecked, Unchecked{check.ThrottleRate, "the origin (" + p.Origin.Name + ") claims it without throttle terms"})
		}
	}
	if p.Lite.Claims.Claims(check.QueueCapacity) {
		if q := p.Lite.Claims.Queue; q != nil && q.Capacity > 0 {
			cfg.QueueCap = q.Capacity
		} else {
			c.unchecked = append(c.unchecked, Unchecked{check.QueueCapacity, "the lites (" + p.Lite.Name + ") claim it without a capacity"})
		}
	}
	return cfg
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return s[0] + " and " + joinAnd(s[1:])
}

// Checked lists the properties this run checks.
func (c *Cluster) Checked() []string {
	var out []string
	for _, n := range check.Names() {
		if c.Check.Checks(n) && (n != check.Convergence || c.liveness) {
			out = append(out, n)
		}
	}
	return out
}

// Unchecked lists the properties this run does not check, and why.
func (c *Cluster) Unchecked() []Unchecked { return c.unchecked }

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
	// Checked lists the properties the run checked; Unchecked those it
	// did not, and why. Impls names the implementation of each role.
	Checked   []string
	Unchecked []Unchecked
	Impls     Impls
	// LiteQueue is the Lites' claimed queue geometry (nil when they claim
	// none), for reports.
	LiteQueue *sim.QueueTerms
	// Wire is what the witness saw (Params.Witness): the last frames sent
	// and delivered, oldest first, and Control every Throttle,
	// ResyncRequest, ShapeSnapshot and handshake delivered in the run.
	Wire, Control []WireFrame
	// WireCounts counts the control frames of the whole run, also those
	// delivered after Control (the first witnessControl) was full; nil
	// without a witness.
	WireCounts *results.WireCounts
	// Throttle is the pacing the Origin claims (nil: none), for reports
	// to draw the bound the checker holds it to.
	Throttle *sim.ThrottleTerms
}

// Impls names the implementation of each role in a run.
type Impls struct{ Origin, Lite string }

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

// Pass reports whether the run converged with no property violated (when
// convergence is not checked, with no property violated). A run cut short
// (Aborted) never passes.
func (r Result) Pass() bool {
	return !r.Aborted && r.Violation == nil && (r.Converged || !r.checksConvergence())
}

func (r Result) checksConvergence() bool {
	for _, p := range r.Checked {
		if p == check.Convergence {
			return true
		}
	}
	return false
}

// Run runs the world to convergence or the deadline.
func (c *Cluster) Run() Result {
	defer c.Close()
	r := c.World.Run()
	res := Result{Result: r, ConvergedAt: c.convergedAt, Converged: c.convergedAt >= 0,
		Checked: c.Checked(), Unchecked: c.unchecked, Impls: Impls{Origin: c.P.Origin.Name, Lite: c.P.Lite.Name},
		LiteQueue: c.liteQueue, Throttle: c.P.Origin.Claims.Throttle}
	if c.Faults != nil {
		res.Schedule = c.Faults.Events()
	}
	if c.witness != nil {
		res.Wire, res.Control = c.witness.Frames()
		counts := c.witness.Counts()
		res.WireCounts = &counts
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
	if f := c.World.Failure(); f != nil {
		// The node broke the contract: no verdict on the protocol holds.
		res.Violation = &check.Violation{Property: check.NodeError, At: f.At, Node: f.Node, NodeName: f.Name,
			Message: fmt.Sprintf("%s (%s) failed while handling %s: %v", f.Name, c.implOf(f.Node), f.Doing, f.Err),
			Tail:    c.World.Tail()}
		res.Converged = false
		res.Divergence = "stopped by a node error"
		return res
	}
	if r.Aborted {
		// Cut short: the liveness checks would judge a run that did not
		// end. (A safety violation stops the run before any cut.)
		res.Converged = false
		res.Divergence = fmt.Sprintf("interrupted at %v, before the run ended", r.End)
		return res
	}
	if v := c.Check.Violation(); v != nil {
		res.Violation = v // a safety violation stopped the run
		res.Converged = false
		res.Divergence = "stopped by a safety violation"
		return res
	}
	c.Check.Final(r.End)
	c.probeQueues(r.End)
	if !res.Converged && c.liveness {
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
	w.Probe(OriginID, &c.op)
	for i := range c.lastDeltas {
		id := LiteID(i)
		w.Probe(id, &c.lp)
		c.Check.Probed(w.Now(), id, &c.lp)
		if !c.P.NoSeries {
			c.record(w, i)
		}
	}
	if w.Now() >= c.P.WriteFor && c.Divergence() == "" {
		c.convergedAt = w.Now()
		return true
	}
	return false
}

// record appends Lite i's samples to the series, from the probes of Origin
// (c.op) and of the Lite (c.lp) this sample took.
func (c *Cluster) record(w *sim.World, i int) {
	id, op, lp := LiteID(i), &c.op, &c.lp
	var head, applied uint64
	for _, cs := range op.Collections {
		head += cs.LSN
	}
	for _, cs := range lp.Collections {
		applied += cs.LSN
	}
	w.Record("applied_lsn", id, float64(applied))
	w.Record("lag", id, float64(head-min(head, applied)))
	w.Record("queue_depth", id, float64(lp.QueueDepth))
	w.Record("throttled", id, b2f(lp.Throttled))
	on, rate := false, 0.0
	for _, s := range op.Sessions {
		if s.Peer == id && s.Throttled {
			on, rate = true, s.Rate
			break
		}
	}
	w.Record("origin_throttled", id, b2f(on))
	w.Record("throttle_rate", id, rate)
	w.Record("unacked", id, float64(lp.Unacked))
	sent := w.DeltasSent(OriginID, id)
	w.Record("push_rate", id, float64(sent-c.lastDeltas[i])/sim.Time(100*sim.Millisecond).Seconds())
	c.lastDeltas[i] = sent
	w.Record("resyncs_sent", id, float64(c.resyncSent[i]))
	w.Record("resyncs_answered", id, float64(c.resyncAnswered[i]))
}

// probeQueues checks every Lite's queue once more at the end of the run.
func (c *Cluster) probeQueues(now sim.Time) {
	for i := range c.lastDeltas {
		if c.World.Probe(LiteID(i), &c.lp) {
			c.Check.Probed(now, LiteID(i), &c.lp)
		}
	}
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

// divergence compares every Lite's probe answer with Origin's.
func (c *Cluster) divergence() (sim.NodeID, string) {
	w, op, lp := c.World, &c.op, &c.lp
	if !w.Probe(OriginID, op) {
		return OriginID, "origin is down"
	}
	for _, s := range op.Sessions {
		if s.Throttled {
			return OriginID, "origin still throttles a peer"
		}
	}
	for i := range c.lastDeltas {
		id := LiteID(i)
		name := w.NodeName(id)
		if !w.Probe(id, lp) {
			return id, name + " is down"
		}
		switch {
		case !lp.Connected:
			return id, name + " is not connected"
		case lp.Unacked > 0:
			return id, fmt.Sprintf("%s has %d unacked mutations", name, lp.Unacked)
		case lp.Resyncing > 0:
			return id, fmt.Sprintf("%s has %d unanswered resync requests", name, lp.Resyncing)
		case lp.Throttled:
			return id, name + " is throttled"
		case lp.QueueDepth > 0:
			return id, fmt.Sprintf("%s has %d queued deltas", name, lp.QueueDepth)
		}
		for _, coll := range c.colls {
			want, _ := op.Collection(coll)
			got, ok := lp.Collection(coll)
			switch {
			case !ok:
				return id, fmt.Sprintf("%s does not hold %s", name, coll)
			case got.LSN < want.LSN || got.LSN > want.LSN && !c.P.Origin.Claims.SharedLSN:
				return id, fmt.Sprintf("%s applied LSN %d of %s, origin is at %d", name, got.LSN, coll, want.LSN)
			case got.Digest != want.Digest:
				return id, fmt.Sprintf("%s holds different %s contents at LSN %d (digest %016x, origin %016x)", name, coll, got.LSN, got.Digest, want.Digest)
			}
		}
	}
	return 0, ""
}

// counter counts each Lite's resync requests and answers for the series,
// the marks, and the costs of converging.
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
	if st := k.c.throttle(conn); st != nil {
		k.c.silence(st, now)
		st.last = now
		if st.waiting {
			st.waiting = false
			k.c.idle = append(k.c.idle, conn)
		}
		k.c.committed = true // what is left over waits from now: see AfterStep
	}
}

// throttle is the throttled session on conn, or nil. The pointer is
// good until the next ThrottleOn (which may grow the slice).
func (c *Cluster) throttle(conn sim.ConnID) *starve {
	if int(conn) < len(c.throttles) && c.throttles[conn].on {
		return &c.throttles[conn]
	}
	return nil
}

// AfterStep: after a step in which Origin committed or fed a throttled
// session, the throttled sessions that still have a backlog wait from now
// on. Origin's probe tells the backlog; it is asked only then, and only
// about the throttled sessions not known to wait (at 1,024 Lites, asking
// about every session after every commit was a tenth of the run, and
// about every throttled one a fifth of the cache misses: in a fan-out
// nearly every session is throttled, and one or two were fed). Every
// Origin lists the live sessions asked about (an Origin may list more).
func (k counter) AfterStep(now sim.Time, node sim.NodeID) {
	c := k.c
	if node != OriginID || !c.committed {
		return
	}
	c.committed = false
	if len(c.idle) == 0 {
		return
	}
	c.asked.Conns = c.idle
	if !c.World.Probe(OriginID, &c.asked) {
		return
	}
	for _, s := range c.asked.Sessions {
		st := c.throttle(s.Conn)
		if st == nil || st.waiting {
			continue // not asked about
		}
		st.listed = true
		if s.Backlog > 0 {
			st.waiting, st.since = true, now
		}
	}
	// A session Origin did not list is gone without a ThrottleOff (closed,
	// timed out, or Origin crashed): forget it, or the list only grows.
	c.idle = slices.DeleteFunc(c.idle, func(conn sim.ConnID) bool {
		st := &c.throttles[conn]
		if !st.listed {
			*st = starve{}
			return true
		}
		st.listed = false
		return st.waiting
	})
}

// Event counts marks, the per-Lite resync series and what the metrics
// need, in one switch (this runs for every event).
func (k counter) Event(now sim.Time, node sim.NodeID, ev sim.Event) {
	c := k.c
	// The most frequent first, by one comparison each: an applied delta
	// and an ack count nothing, a commit one flag.
	if _, ok := ev.(*sim.Applied); ok {
		return
	}
	if _, ok := ev.(*sim.Committed); ok {
		c.committed = true // new data: see AfterStep
		return
	}
	if _, ok := ev.(*sim.Acked); ok {
		return
	}
	switch e := ev.(type) {
	case *sim.Resending:
		c.resendNext = true
	case *sim.ThrottleOn:
		k.mark(MarkThrottleEngaged)
		if c.throttle(e.Conn) == nil {
			if int(e.Conn) >= len(c.throttles) {
				c.throttles = append(c.throttles, make([]starve, int(e.Conn)+1-len(c.throttles))...)
			}
			c.throttles[e.Conn] = starve{on: true, last: now}
			c.idle = append(c.idle, e.Conn)
		}
	case *sim.ThrottleOff:
		if e.ByLease {
			k.mark(MarkThrottleLeaseExpired)
		} else {
			k.mark(MarkThrottleReleased)
		}
		if st := c.throttle(e.Conn); st != nil {
			c.silence(st, now)
			waiting := st.waiting
			*st = starve{}
			if !waiting {
				c.idle = slices.DeleteFunc(c.idle, func(conn sim.ConnID) bool { return conn == e.Conn })
			}
		}
	case *sim.ResyncSent:
		if e.Attempt > 1 {
			k.mark(MarkResyncRetried)
		} else {
			k.mark(MarkResyncSent)
			if e.From > 0 {
				k.mark(MarkGapDetected)
			}
		}
		if i := int(node) - 1; i >= 0 && i < len(c.resyncSent) {
			c.resyncSent[i]++
		}
	case *sim.ResyncAnswered:
		k.mark(MarkResyncAnswered)
		if i := int(node) - 1; i >= 0 && i < len(c.resyncAnswered) {
			c.resyncAnswered[i]++
		}
	default:
		k.markEvent(ev)
	}
}

// monitors is the run's Monitor: the checker and the counter, called
// directly (they see every step, event and frame), then any other.
type monitors struct {
	check *check.Checker
	count counter
	more  sim.Monitor // nil: none
}

func (m *monitors) Step(now sim.Time, n sim.NodeID, in *sim.Input, altered bool) {
	m.check.Step(now, n, in, altered)
	m.count.Step(now, n, in, altered)
	if m.more != nil {
		m.more.Step(now, n, in, altered)
	}
}

func (m *monitors) Event(now sim.Time, n sim.NodeID, ev sim.Event) {
	m.check.Event(now, n, ev)
	m.count.Event(now, n, ev)
	if m.more != nil {
		m.more.Event(now, n, ev)
	}
}

func (m *monitors) Sent(now sim.Time, p *sim.Packet) {
	m.check.Sent(now, p)
	m.count.Sent(now, p)
	if m.more != nil {
		m.more.Sent(now, p)
	}
}

func (m *monitors) AfterStep(now sim.Time, n sim.NodeID) {
	m.count.AfterStep(now, n) // the checker has nothing to do after a step
	if m.more != nil {
		m.more.AfterStep(now, n)
	}
}

// Collections names the n collections of a topology: c0..c{n-1}.
func Collections(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("c%d", i)
	}
	return out
}

// NewWorkload is the workload of p over colls, as a run of p makes it:
// live mode drives real endpoints with it.
func NewWorkload(p Params, colls []string) sim.Workload { return newWorkload(p, colls) }

// both is two monitors, called in order.
type both [2]sim.Monitor

func (b both) Step(now sim.Time, n sim.NodeID, in *sim.Input, altered bool) {
	b[0].Step(now, n, in, altered)
	b[1].Step(now, n, in, altered)
}

func (b both) Event(now sim.Time, n sim.NodeID, ev sim.Event) {
	b[0].Event(now, n, ev)
	b[1].Event(now, n, ev)
}

func (b both) Sent(now sim.Time, p *sim.Packet) {
	b[0].Sent(now, p)
	b[1].Sent(now, p)
}

func (b both) AfterStep(now sim.Time, n sim.NodeID) {
	b[0].AfterStep(now, n)
	b[1].AfterStep(now, n)
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

func (w *workload) Make(_ sim.Time, _ sim.NodeID, wr *sim.Write) {
	wr.Collection = w.colls[w.rng.IntN(len(w.colls))]
	wr.DocID = w.docID(w.rng.IntN(w.p.Docs))
	if w.rng.IntN(10) > 0 { // one write in ten deletes
		v := make([]byte, 8+w.rng.IntN(25))
		for i := range v {
			v[i] = byte(w.src.Uint64() >> 32) // = byte(w.rng.Uint32()), without the interface call
		}
		wr.Value = v
	}
}
