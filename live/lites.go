package live

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/sim"
)

// LitesConfig is a fleet of Lites syncing with a real Origin.
type LitesConfig struct {
	URL  string // ws://host:port/path of the Origin (or of a proxy before it)
	N    int
	Impl sim.Impl
	// FirstPeer is the first Lite's peer id (and lite_id); the others
	// follow. Two fleets against one Origin need apart ranges.
	FirstPeer   uint64
	Collections []string
	Seed        uint64
	Workload    sim.Workload
	// WriteFor is how long the Lites write; Budget how long after that
	// they have to converge.
	WriteFor, Budget sim.Time
	Log              *log.Logger
}

// settleTicks is how many samples in a row (100 ms apart) the Lites must
// agree, with nothing pending, before the fleet calls them converged: one
// agreeing sample could be a moment between two of Origin's commits.
const settleTicks = 3

// LitesResult is how a fleet's run ended.
type LitesResult struct {
	// Converged: every Lite held the same state of every collection, was
	// connected and had nothing pending, for settleTicks samples in a row.
	Converged bool
	// ConvergedAt is when (after WriteFor) the Lites first agreed.
	ConvergedAt sim.Time
	// Divergence says why not, when not converged.
	Divergence string
	// Interrupted: the run was stopped (signal, -duration) before the
	// Lites converged or the budget ran out; no verdict.
	Interrupted bool
	End         sim.Time
	Probes      []sim.Probe
	Names       []string
}

// Lites is a fleet in progress.
type Lites struct {
	cfg     LitesConfig
	h       *host
	samples *sampler
	Stats   Stats
}

// NewLites builds the fleet's nodes.
func NewLites(ctx context.Context, cfg LitesConfig) (*Lites, error) {
	if cfg.N < 1 {
		return nil, fmt.Errorf("want at least one Lite, got %d", cfg.N)
	}
	if cfg.FirstPeer == 0 {
		cfg.FirstPeer = 1
	}
	if cfg.Log == nil {
		cfg.Log = log.New(discard{}, "", 0)
	}
	l := &Lites{cfg: cfg, samples: newSampler(liteSeriesNames)}
	l.h = newHost(ctx, cfg.Log, &l.Stats)
	l.h.workload, l.h.writeFor = cfg.Workload, cfg.WriteFor
	hdr := http.Header{}
	l.h.dial = func(ctx context.Context) (*websocket.Conn, error) {
		ws, resp, err := websocket.Dial(ctx, cfg.URL, &websocket.DialOptions{HTTPHeader: hdr, CompressionMode: websocket.CompressionDisabled})
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return ws, err
	}
	for i := 0; i < cfg.N; i++ {
		id := sim.NodeID(i + 1)
		peer := cfg.FirstPeer + uint64(i)
		name := fmt.Sprintf("lite%d", peer)
		env := sim.Env{ID: id, Name: name, Role: sim.RoleLite, Origin: 0, PeerID: peer, Collections: cfg.Collections,
			Seed: sim.NodeSeed(cfg.Seed, name)}
		env.Rand = rand.New(rand.NewPCG(env.Seed[0], env.Seed[1]))
		n, err := cfg.Impl.New(env)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", name, cfg.Impl.Name, err)
		}
		l.h.nodes = append(l.h.nodes, &hosted{id: id, name: name, node: n})
	}
	return l, nil
}

// Run syncs until the Lites converge after WriteFor, the budget runs out,
// or ctx is done (then the result is Interrupted).
func (l *Lites) Run() (LitesResult, error) {
	res := LitesResult{}
	probes := make([]sim.Probe, len(l.h.nodes))
	agreed, first := 0, sim.Time(-1)
	deadline := l.cfg.WriteFor + l.cfg.Budget
	l.h.run(100*time.Millisecond, func(now sim.Time) bool {
		for i, n := range l.h.nodes {
			l.h.probe(n, &probes[i])
		}
		l.record(now, probes)
		if now < l.cfg.WriteFor {
			return false
		}
		why := agree(l.h.nodes, probes)
		switch {
		case why == "":
			if agreed == 0 {
				first = now
			}
			agreed++
		default:
			agreed, res.Divergence = 0, why
		}
		if agreed >= settleTicks {
			res.Converged, res.ConvergedAt, res.Divergence = true, first, ""
			return true
		}
		return now >= deadline
	})
	res.End = l.h.clock.Now()
	if !res.Converged && res.End < deadline {
		res.Interrupted = true
	}
	for i, n := range l.h.nodes {
		l.h.probe(n, &probes[i])
		res.Names = append(res.Names, n.name)
	}
	res.Probes = probes
	if !res.Converged {
		if why := agree(l.h.nodes, probes); why != "" {
			res.Divergence = why
		} else if res.Divergence == "" {
			res.Divergence = "the Lites agreed at the end, but not for 3 samples in a row"
		}
	}
	l.h.shutdown()
	return res, l.h.failure
}

// record samples the Lites' probes into the series.
func (l *Lites) record(now sim.Time, probes []sim.Probe) {
	if !l.samples.due() {
		return
	}
	applied := make([]uint64, len(probes))
	var top uint64
	for i, p := range probes {
		for _, c := range p.Collections {
			applied[i] += c.LSN
		}
		top = max(top, applied[i])
	}
	for i, p := range probes {
		id := l.h.nodes[i].id
		l.samples.record("lag", id, now, float64(top-applied[i]))
		l.samples.record("queue_depth", id, now, float64(p.QueueDepth))
		l.samples.record("unacked", id, now, float64(p.Unacked))
		l.samples.record("throttled", id, now, b2f(p.Throttled))
	}
}

// Series are the fleet's samples, for its result file.
func (l *Lites) Series() []results.Series { return l.samples.series() }

// agree says why the Lites' answers do not show convergence ("" if
// they do): each connected with nothing pending, all holding the same
// LSN and digest of every collection.
func agree(nodes []*hosted, probes []sim.Probe) string {
	for i, p := range probes {
		name := nodes[i].name
		switch {
		case !p.Connected:
			return name + " is not connected"
		case p.Unacked > 0:
			return fmt.Sprintf("%s has %d mutations neither acked nor rejected", name, p.Unacked)
		case p.Resyncing > 0:
			return fmt.Sprintf("%s waits for %d resync answers", name, p.Resyncing)
		case p.QueueDepth > 0:
			return fmt.Sprintf("%s has %d deltas queued", name, p.QueueDepth)
		case p.Throttled:
			return name + " has a throttle engaged"
		}
		if i == 0 {
			continue
		}
		for _, c := range probes[0].Collections {
			d, ok := p.Collection(c.Name)
			switch {
			case !ok:
				return fmt.Sprintf("%s does not hold %s", name, c.Name)
			case d.LSN != c.LSN || d.Digest != c.Digest:
				return fmt.Sprintf("%s holds %s at LSN %d (digest %016x), %s at LSN %d (digest %016x)", name, c.Name, d.LSN, d.Digest,
					nodes[0].name, c.LSN, c.Digest)
			}
		}
	}
	return ""
}

// Summary is the fleet's final state, a line per Lite.
func (r LitesResult) Summary() string {
	var b strings.Builder
	for i, p := range r.Probes {
		var colls []string
		for _, c := range p.Collections {
			colls = append(colls, fmt.Sprintf("%s@%d/%04x", c.Name, c.LSN, c.Digest&0xffff))
		}
		slices.Sort(colls)
		fmt.Fprintf(&b, "  %-8s connected=%t unacked=%d resyncing=%d queued=%d  %s\n", r.Names[i], p.Connected, p.Unacked, p.Resyncing,
			p.QueueDepth, strings.Join(colls, " "))
	}
	return b.String()
}
