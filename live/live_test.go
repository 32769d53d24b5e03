package live

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/reports"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
	"github.com/syncsim/syncsim/wire"
)

// Every test here runs on loopback, on ports the kernel picks, and ends
// by itself: each has a context with a deadline that stops every
// component.

func params(t *testing.T, def string, bug string) topology.Params {
	t.Helper()
	sc, err := scenarios.Parse("test.json", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	sc.Bug = bug
	p, err := sc.Params(1)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// syncLog is a logger tests can read while components write to it.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startOrigin serves p's Origin on a free loopback port until ctx ends.
func startOrigin(t *testing.T, ctx context.Context, p topology.Params, writes bool) (*Origin, func()) {
	t.Helper()
	cfg := OriginConfig{Listen: "127.0.0.1:0", Impl: p.Origin, Collections: topology.Collections(p.Collections), Seed: 1}
	if writes {
		cfg.Workload, cfg.WriteFor = topology.NewWorkload(p, cfg.Collections), p.WriteFor
	}
	o, err := NewOrigin(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- o.Serve() }()
	return o, func() {
		if err := <-done; err != nil {
			t.Errorf("origin: %v", err)
		}
	}
}

// startProxy runs a proxy before upstream until its own context ends.
func startProxy(t *testing.T, ctx context.Context, cfg ProxyConfig) (*Proxy, func() ([]byte, *Proxy)) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	px, err := NewProxy(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- px.Serve() }()
	return px, func() ([]byte, *Proxy) {
		if err := <-done; err != nil {
			t.Errorf("proxy: %v", err)
		}
		r, _ := px.Finish()
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return b, px
	}
}

func runFleet(t *testing.T, ctx context.Context, url string, p topology.Params) LitesResult {
	t.Helper()
	colls := topology.Collections(p.Collections)
	l, err := NewLites(ctx, LitesConfig{URL: url, N: p.Lites, Impl: p.Lite, Collections: colls, Seed: 1,
		Workload: topology.NewWorkload(p, colls), WriteFor: p.WriteFor, Budget: p.Budget})
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Run()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// waitUntil blocks until the proxy's clock passes at (or ctx ends).
func waitUntil(ctx context.Context, px *Proxy, at sim.Time) {
	for px.clock.Now() < at && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
}

// checks are the live checkers' terms for the tests: a slack of 20 deltas
// because go test runs packages side by side on two cores, and a proxy
// starved for 100 ms reads 20 paced deltas at once (an Origin ignoring
// the throttle still exceeds it within 50 ms).
func checks(p topology.Params, within sim.Time) check.WireConfig {
	return check.WireConfig{Throttle: p.Origin.Claims.Throttle, SharedLSN: p.Origin.Claims.SharedLSN, Slack: 20, AnswerWithin: within}
}

// Faults on the steady streams only (ShapeDelta down, DeltaPush up), and
// ending well before heal, so that a replay finds a frame for every
// recorded fault.
const lossyLive = `{"name": "live-lossy", "lites": 3, "write_for": "3s", "budget": "15s",
 "faults": [{"kind": "drop", "rate": 0.08, "target": "all", "type": "ShapeDelta", "end": "1500ms"},
            {"kind": "duplicate", "rate": 0.08, "target": "all", "type": "DeltaPush", "end": "1500ms"}]}`

// session is Lites → proxy → Origin for p on loopback: the fleet runs for
// at most fleetFor, and the proxy, when judge is set, until Origin has had
// its time to answer after heal (push-outcome is judged then).
type session struct {
	script   []faults.Event
	within   sim.Time // the checkers' AnswerWithin
	fleetFor time.Duration
	judge    bool
}

func (s session) run(t *testing.T, p topology.Params) (LitesResult, *Proxy) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o, originDone := startOrigin(t, ctx, p, true)
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	px, proxyDone := startProxy(t, pctx, ProxyConfig{Upstream: "ws://" + o.Addr(), Lites: p.Lites,
		Plan: p.Faults, Script: s.script, Seed: 1, Checks: checks(p, s.within), Budget: p.Budget})
	fctx, fcancel := context.WithTimeout(ctx, s.fleetFor)
	defer fcancel()
	res := runFleet(t, fctx, "ws://"+px.Addr(), p)
	if s.judge {
		waitUntil(ctx, px, p.Faults.Heal+s.within)
	}
	pcancel()
	proxyDone()
	cancel()
	originDone()
	return res, px
}

// lossyRun is lossyLive's faults (or script) through the proxy, judged.
func lossyRun(t *testing.T, script []faults.Event) (LitesResult, []faults.Event, *Proxy) {
	t.Helper()
	// 2 s to answer: room for a CPU shared with other test packages.
	res, px := session{script: script, within: 2 * sim.Second, fleetFor: 30 * time.Second, judge: true}.run(t, params(t, lossyLive, ""))
	r, events := px.Finish()
	if r.Live.Verdict != Pass {
		t.Errorf("proxy verdict %s (%s), violations %+v, failures %v; want PASS", r.Live.Verdict, r.Live.Why, r.Live.Violations, r.Live.Failures)
	}
	return res, events, px
}

func kinds(events []faults.Event) map[faults.Kind]int {
	m := map[faults.Kind]int{}
	for _, e := range events {
		m[e.Kind]++
	}
	return m
}

func TestLossyThroughProxyConvergesAndScriptReplays(t *testing.T) {
	t.Parallel()
	res, events, _ := lossyRun(t, nil)
	if !res.Converged {
		t.Fatalf("Lites did not converge through the lossy proxy: %s\n%s", res.Divergence, res.Summary())
	}
	got := kinds(events)
	if got[faults.Drop] == 0 || got[faults.Duplicate] == 0 {
		t.Fatalf("faults applied %v: want drops and duplicates (the plan has both at 8%%)", got)
	}
	for _, e := range events {
		if e.At >= 1500*sim.Millisecond {
			t.Fatalf("fault %v after the plan's end (1.5 s)", e)
		}
	}
	res2, events2, _ := lossyRun(t, events)
	if !res2.Converged {
		t.Fatalf("Lites did not converge replaying the script: %s", res2.Divergence)
	}
	if again := kinds(events2); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Fatalf("replaying the recorded script applied %v; the recording applied %v", again, got)
	}
}

// throttleLive makes one Lite fall behind an Origin committing 600/s, so
// that it asks for a throttle.
const throttleLive = `{"name": "throttle-live", "lites": 1, "collections": 1, "lite_rate": 5, "origin_rate": 600,
 "write_for": "2s", "budget": "10s", "lite_drain_rate": 200, "lite_queue": 200}`

func throttleRun(t *testing.T, bug string, fleetFor time.Duration) (*Proxy, LitesResult) {
	t.Helper()
	res, px := session{within: sim.Second, fleetFor: fleetFor, judge: true}.run(t, params(t, throttleLive, bug))
	return px, res
}

func TestIgnoreThrottleFailsThrottleRate(t *testing.T) {
	t.Parallel()
	px, _ := throttleRun(t, "ignore-throttle", 4*time.Second)
	r, _ := px.Finish()
	if r.Counters.ThrottleOn == 0 {
		t.Fatalf("the Lite never asked for a throttle (counters %+v): the test does not exercise the checker", r.Counters)
	}
	var v *check.Violation
	for i := range px.chk.Violations {
		if px.chk.Violations[i].Property == check.ThrottleRate {
			v = &px.chk.Violations[i]
			break
		}
	}
	if v == nil || r.Live.Verdict != Fail {
		t.Fatalf("verdict %s, violations %+v: want throttle-rate to fail against an Origin that ignores Throttle", r.Live.Verdict, r.Live.Violations)
	}
	if !strings.Contains(v.Message, "on connection 1") || !strings.Contains(v.Message, "lite1") || v.At <= 0 {
		t.Errorf("violation %q at %v: want it to name the connection, the Lite and a time", v.Message, v.At)
	}
	// The report of a live failure draws its sequence diagram from the
	// frames kept at the first violation.
	sq, ok := reports.SequenceOf(&r)
	if !ok || len(sq.Arrows) == 0 || sq.Clock != "wall-clock" {
		t.Fatalf("no sequence diagram of the failing window from the proxy's result (%d wire frames)", len(r.Wire))
	}
	if r.Throttle == nil || r.Throttle.Slack != 20 {
		t.Errorf("result's throttle terms %+v: want the Origin's claims with the proxy's slack", r.Throttle)
	}
}

func TestThrottleHonouredPasses(t *testing.T) {
	t.Parallel()
	px, res := throttleRun(t, "", 20*time.Second)
	r, _ := px.Finish()
	if r.Counters.ThrottleOn == 0 {
		t.Fatalf("the Lite never asked for a throttle (counters %+v)", r.Counters)
	}
	if r.Live.Verdict != Pass || !res.Converged {
		t.Fatalf("verdict %s (%s), violations %+v, converged %t (%s): the reference Origin paces as asked and must pass",
			r.Live.Verdict, r.Live.Why, r.Live.Violations, res.Converged, res.Divergence)
	}
}

func TestIgnoreResyncFailsResyncAnswered(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, nodes, bug string }{
		{"reference with ignore-resync", "", "ignore-resync"},
		// NodeDB's April 2026 Origin only logs ResyncRequest; the reference
		// Lites recover by subscribing again, and the snapshot that
		// answers the subscribe must not pass for the resync's answer.
		{"NodeDB 2026 model", `, "nodes": {"origin": "nodedb-2026"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resyncIgnored(t, tc.nodes, tc.bug)
		})
	}
}

func resyncIgnored(t *testing.T, nodes, bug string) {
	p := params(t, `{"name": "gaps", "lites": 2, "write_for": "2s", "budget": "10s"`+nodes+`,
		"faults": [{"kind": "drop", "rate": 0.1, "target": "origin", "type": "ShapeDelta", "end": "1500ms"}]}`, bug)
	res, px := session{within: sim.Second, fleetFor: 4 * time.Second}.run(t, p)
	if res.Converged && bug != "" {
		t.Fatalf("the Lites converged although Origin ignores every resync: the drops did not bite")
	}
	r, _ := px.Finish()
	if r.Counters.ResyncRequested == 0 {
		t.Fatalf("no ResyncRequest went through the proxy: the drops did not bite")
	}
	found := false
	for _, v := range r.Live.Violations {
		found = found || v.Property == check.ResyncAnswered
	}
	if !found || r.Live.Verdict != Fail {
		t.Fatalf("verdict %s, violations %+v: want resync-answered to fail", r.Live.Verdict, r.Live.Violations)
	}
}

// rawClient is a WebSocket peer that sends what it is told, well formed
// or not.
func rawClient(t *testing.T, ctx context.Context, url string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.Dial(ctx, url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return c
}

// misbehave sends every kind of bad message a peer can, each on a
// connection of its own.
func misbehave(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	huge := make([]byte, wire.HeaderLen)
	huge[0] = byte(wire.TypeDeltaPush)
	binary.LittleEndian.PutUint32(huge[1:], wire.DefaultMaxBody+1)
	unknown := []byte{0xee, 1, 0, 0, 0, 0x90}
	for _, send := range []func(c *websocket.Conn) error{
		func(c *websocket.Conn) error { return c.Write(ctx, websocket.MessageText, []byte("hello")) },
		func(c *websocket.Conn) error { return c.Write(ctx, websocket.MessageBinary, []byte("hi")) },
		func(c *websocket.Conn) error { return c.Write(ctx, websocket.MessageBinary, nil) },
		func(c *websocket.Conn) error { return c.Write(ctx, websocket.MessageBinary, unknown) },
		func(c *websocket.Conn) error { return c.Write(ctx, websocket.MessageBinary, huge) },
		func(c *websocket.Conn) error { // a frame cut off mid-message: the socket closes under it
			w, err := c.Writer(ctx, websocket.MessageBinary)
			if err != nil {
				return err
			}
			part := make([]byte, 16<<10) // past the writer's buffer: fragments go out
			part[0] = byte(wire.TypeDeltaPush)
			binary.LittleEndian.PutUint32(part[1:], 64<<10)
			if _, err := w.Write(part); err != nil {
				return err
			}
			time.Sleep(20 * time.Millisecond)
			return c.CloseNow()
		},
	} {
		c := rawClient(t, ctx, url)
		if err := send(c); err != nil {
			t.Fatalf("sending: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
		c.CloseNow()
	}
}

func TestMalformedPeersAreCountedAndHarmless(t *testing.T) {
	t.Parallel()
	p := params(t, `{"name": "calm", "lites": 1, "write_for": "1500ms", "budget": "8s"}`, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lg := &syncLog{}
	o, err := NewOrigin(ctx, OriginConfig{Listen: "127.0.0.1:0", Impl: p.Origin, Collections: topology.Collections(p.Collections),
		Log: log.New(lg, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	odone := make(chan error, 1)
	go func() { odone <- o.Serve() }()
	pctx, pcancel := context.WithCancel(ctx)
	px, err := NewProxy(pctx, ProxyConfig{Listen: "127.0.0.1:0", Upstream: "ws://" + o.Addr(), Lites: 1, Log: log.New(lg, "", 0),
		Checks: checks(p, sim.Second)})
	if err != nil {
		t.Fatal(err)
	}
	pdone := make(chan error, 1)
	go func() { pdone <- px.Serve() }()

	// A good Lite syncs through the proxy while bad peers come and go.
	fleet := make(chan LitesResult, 1)
	go func() { fleet <- runFleet(t, ctx, "ws://"+px.Addr(), p) }()
	misbehave(t, ctx, "ws://"+px.Addr())
	misbehave(t, ctx, "ws://"+o.Addr())
	res := <-fleet
	if !res.Converged {
		t.Errorf("the good Lite did not converge beside the bad peers: %s", res.Divergence)
	}
	// Both still accept new connections.
	for _, url := range []string{"ws://" + px.Addr(), "ws://" + o.Addr()} {
		rawClient(t, ctx, url).CloseNow()
	}
	pcancel()
	if err := <-pdone; err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-odone; err != nil {
		t.Fatal(err)
	}
	// text, short, empty, unknown type, oversized, cut off: six each
	if n := px.Stats.Malformed.Load(); n < 6 {
		t.Errorf("proxy counted %d malformed messages, want at least 6\nlog:\n%s", n, lg)
	}
	if n := o.Stats.Malformed.Load(); n < 6 {
		t.Errorf("origin counted %d malformed messages, want at least 6\nlog:\n%s", n, lg)
	}
	for _, want := range []string{"text message", "shorter than the 5-byte frame header", "type byte 0xee", "frame too large", "middle of a frame"} {
		if !strings.Contains(lg.String(), want) {
			t.Errorf("log does not mention %q:\n%s", want, lg)
		}
	}
}

func TestConnectionLimitRefusesBeforeUpgrade(t *testing.T) {
	t.Parallel()
	p := params(t, `{"name": "calm", "lites": 1}`, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o, err := NewOrigin(ctx, OriginConfig{Listen: "127.0.0.1:0", MaxConns: 1, Impl: p.Origin, Collections: []string{"c0"}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- o.Serve() }()
	first := rawClient(t, ctx, "ws://"+o.Addr())
	_, resp, err := websocket.Dial(ctx, "ws://"+o.Addr(), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		t.Fatalf("second connection over -max-conns 1: err %v, HTTP %d; want refused with 503", err, code)
	}
	resp.Body.Close()
	first.CloseNow()
	cancel()
	<-done
	if o.Stats.Refused.Load() != 1 {
		t.Errorf("refused %d, want 1", o.Stats.Refused.Load())
	}
}

func TestUpstreamRefusedIsTheProxysFailure(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	px, finish := startProxy(t, ctx, ProxyConfig{Upstream: "ws://" + dead, Lites: 1})
	c, resp, err := websocket.Dial(ctx, "ws://"+px.Addr(), nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err == nil {
		_, _, err = c.Read(ctx) // the proxy closes it: nothing to pair it with
		c.CloseNow()
	}
	cancel()
	b, _ := finish()
	r, _ := px.Finish()
	if r.Live.Verdict != Inconclusive || len(r.Live.Failures) == 0 || r.Live.Count != 0 {
		t.Fatalf("verdict %s, failures %v, violations %d: an unreachable upstream is the proxy's failure, not a violation (%s)",
			r.Live.Verdict, r.Live.Failures, r.Live.Count, b)
	}
	if !strings.Contains(r.Live.Failures[0], "refused") {
		t.Errorf("failure %q does not say the upstream refused", r.Live.Failures[0])
	}
}

func TestUpstreamDyingMidRunIsTheProxysFailure(t *testing.T) {
	t.Parallel()
	p := params(t, `{"name": "calm", "lites": 1}`, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	octx, ocancel := context.WithCancel(ctx)
	o, originDone := startOrigin(t, octx, p, false)
	pctx, pcancel := context.WithCancel(ctx)
	px, finish := startProxy(t, pctx, ProxyConfig{Upstream: "ws://" + o.Addr(), Lites: 1})
	c := rawClient(t, ctx, "ws://"+px.Addr())
	for px.Stats.Connections.Load() == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	ocancel() // the Origin goes away under a live connection
	originDone()
	c.Read(ctx) // the proxy closes the Lite's side too
	c.CloseNow()
	pcancel()
	finish()
	r, _ := px.Finish()
	if r.Live.Verdict != Inconclusive || r.Live.Count != 0 || len(r.Live.Failures) == 0 || !strings.Contains(r.Live.Failures[0], "mid-run") {
		t.Fatalf("verdict %s, violations %d, failures %v: an upstream that dies is the proxy's failure", r.Live.Verdict, r.Live.Count, r.Live.Failures)
	}
}

func TestHandshakeTokenNeverWritten(t *testing.T) {
	t.Parallel()
	const secret = "eyJhbGciOi.s3cret-payload.sig"
	p := params(t, `{"name": "calm", "lites": 1}`, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o, originDone := startOrigin(t, ctx, p, false)
	var trace, logs bytes.Buffer
	var mu sync.Mutex
	pctx, pcancel := context.WithCancel(ctx)
	px, finish := startProxy(t, pctx, ProxyConfig{Upstream: "ws://" + o.Addr(), Lites: 1, Trace: lockedWriter{&mu, &trace},
		Log: log.New(lockedWriter{&mu, &logs}, "", 0)})
	c := rawClient(t, ctx, "ws://"+px.Addr())
	hs, err := wire.Default.Encode(&wire.Handshake{JWTToken: secret, LiteID: "1", ClientVersion: "test", WireVersion: 1,
		VectorClock: map[string]map[string]uint64{}, SubscribedShapes: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageBinary, hs); err != nil {
		t.Fatal(err)
	}
	if _, ack, err := c.Read(ctx); err != nil || len(ack) == 0 || wire.MsgType(ack[0]) != wire.TypeHandshakeAck {
		t.Fatalf("no HandshakeAck through the proxy: %v", err)
	}
	c.CloseNow()
	pcancel()
	result, _ := finish()
	cancel()
	originDone()
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(trace.String(), "[redacted]") || !strings.Contains(trace.String(), "Handshake") {
		t.Fatalf("the trace shows no redacted handshake:\n%s", trace.String())
	}
	for what, s := range map[string]string{"trace": trace.String(), "log": logs.String(), "result": string(result)} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("the %s holds the handshake's token:\n%s", what, s)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestLivePlanLeavesOutWhatNeedsTheNode(t *testing.T) {
	plan := faults.Plan{Heal: sim.Second, Specs: []faults.Spec{{Kind: faults.Drop}, {Kind: faults.Crash}, {Kind: faults.Reset}, {Kind: faults.ClockSkew}}}
	got, left := LivePlan(plan)
	if len(got.Specs) != 2 || got.Specs[0].Kind != faults.Drop || got.Specs[1].Kind != faults.Reset || got.Heal != sim.Second {
		t.Errorf("kept %+v, want drop and reset with the heal", got)
	}
	if fmt.Sprint(left) != "[crash clock-skew]" {
		t.Errorf("left out %v, want [crash clock-skew]", left)
	}
	if err := LiveFaults(got, nil); err != nil {
		t.Errorf("the plan LivePlan keeps is refused: %v", err)
	}
}

func TestLiveFaultsRefusesWhatNeedsTheNode(t *testing.T) {
	for _, tc := range []struct {
		kind faults.Kind
		ok   bool
	}{{faults.Drop, true}, {faults.Reset, true}, {faults.Partition, true}, {faults.PartitionOneWay, true}, {faults.RewindLSN, true},
		{faults.Crash, false}, {faults.SlowConsumer, false}, {faults.Burst, false}, {faults.ClockSkew, false}} {
		err := LiveFaults(faults.Plan{Specs: []faults.Spec{{Kind: tc.kind}}}, nil)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want allowed %t", tc.kind, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), string(tc.kind)) {
			t.Errorf("%s: error %q does not name the fault", tc.kind, err)
		}
	}
}

func TestLiteIDsFillTheScenariosLitesFirst(t *testing.T) {
	p := &Proxy{cfg: ProxyConfig{Lites: 3, Log: quiet(nil)}, liteIDs: map[string]sim.NodeID{},
		names: map[sim.NodeID]string{OriginNode: "origin"}, nextLite: 3}
	hs := func(id string) []byte {
		b, err := wire.Default.Encode(&wire.Handshake{LiteID: id, VectorClock: map[string]map[string]uint64{}, SubscribedShapes: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		frame []byte
		want  sim.NodeID
	}{
		{hs("device-a"), 1}, // a real Lite's id takes the lowest free Lite
		{hs("2"), 2},        // a reference Lite keeps its number
		{[]byte("junk"), 4}, // no handshake: never one of the scenario's Lites
		{hs("device-b"), 3},
		{hs("1"), 5}, // its number is taken: past the scenario's Lites
		{hs("device-a"), 1},
		{[]byte("more junk"), 4},
	} {
		pr := &pair{id: 1}
		p.identify(pr, tc.frame)
		if pr.lite != tc.want {
			t.Errorf("%q: node %d, want %d", tc.frame, pr.lite, tc.want)
		}
	}
}
