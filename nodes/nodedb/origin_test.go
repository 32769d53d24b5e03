package nodedb

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/nodes/model"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// The rate limiter: a new session's bucket holds 200; the 201st quick push
// is silently dropped (no reply, no commit, the dedup mark unmoved); a
// token earned 10 ms later admits it when re-sent.
func TestOriginRateLimitSilentDrop(t *testing.T) {
	o, d := originWithSession(t, OriginConfig{})
	for mid := uint64(1); mid <= pushBurst; mid++ {
		s := d.frame(1, push("c0", "a", 7, mid, "v"))
		if acks := sendsOf[*wire.DeltaAck](s); len(acks) != 1 || len(eventsOf[*sim.Committed](s)) != 1 {
			t.Fatalf("push %d: %+v, want acked and committed", mid, s)
		}
	}
	s := d.frame(1, push("c0", "a", 7, pushBurst+1, "v"))
	if len(s.sends) != 0 || len(s.events) != 0 {
		t.Fatalf("push %d past the burst: %+v, want silently dropped", pushBurst+1, s)
	}
	if o.LastSeen(7) != pushBurst || o.WAL() != pushBurst {
		t.Fatalf("dedup mark %d, WAL %d: want both %d (the drop moved neither)", o.LastSeen(7), o.WAL(), pushBurst)
	}
	// Duplicates are acked before the limiter: they cost no token.
	if s := d.frame(1, push("c0", "a", 7, 1, "v")); len(sendsOf[*wire.DeltaAck](s)) != 1 {
		t.Fatal("a duplicate is not acked while the bucket is empty")
	}
	d.now += 10 * ms // one token at 100/s
	s = d.frame(1, push("c0", "a", 7, pushBurst+1, "v"))
	if c := eventsOf[*sim.Committed](s); len(c) != 1 || c[0].Mutation != pushBurst+1 {
		t.Fatalf("re-sent after a refill: %+v, want committed", s)
	}
	if s := d.frame(1, push("c0", "a", 7, pushBurst+2, "v")); len(s.sends) != 0 {
		t.Fatalf("the next one at once: %+v, want dropped again", s.sends)
	}
	// The bucket is per session: a second session starts full.
	d.step(sim.Input{Kind: sim.InConnUp, Conn: 2, Peer: 2})
	d.frame(2, handshake("t", 1))
	if s := d.frame(2, push("c0", "a", 8, 1, "v")); len(sendsOf[*wire.DeltaAck](s)) != 1 {
		t.Fatal("another session's push was limited")
	}
}

// A push dropped by the rate limit and then overtaken by a later one is
// acked as a duplicate when re-sent, and never applied: the dedup mark
// moved past it (PROTOCOL.md's "can later be acked without ever being
// applied").
func TestOriginRateLimitThenOvertaken(t *testing.T) {
	o, d := originWithSession(t, OriginConfig{})
	for mid := uint64(1); mid <= pushBurst; mid++ {
		d.frame(1, push("c0", "a", 7, mid, "v"))
	}
	d.frame(1, push("c0", "lost", 7, pushBurst+1, "x")) // dropped
	d.now += 10 * ms
	d.frame(1, push("c0", "b", 7, pushBurst+2, "y")) // admitted: the mark moves to 202
	s := d.frame(1, push("c0", "lost", 7, pushBurst+1, "x"))
	if acks := sendsOf[*wire.DeltaAck](s); len(acks) != 1 || acks[0].LSN != 0 || len(eventsOf[*sim.Committed](s)) != 0 {
		t.Fatalf("the re-sent push: %+v, want acked with lsn 0 and not committed", s)
	}
	if _, ok := o.Collection("c0").Get("lost"); ok {
		t.Fatal("the dropped mutation was applied")
	}
}

// Checks in order: each push below fails several checks and must get the
// first one's answer.
func TestOriginPushCheckOrder(t *testing.T) {
	o := NewOrigin(sim.Env{Collections: []string{"c0"}}, OriginConfig{})
	d := newDriver(t, o)
	d.step(sim.Input{Kind: sim.InConnUp, Conn: 1, Peer: 1})
	bad := &wire.DeltaPush{Collection: "nope", DocumentID: "d", PeerID: 7, MutationID: 1, Checksum: 5}
	rejectOf := func(s stepped) *wire.DeltaReject {
		t.Helper()
		r := sendsOf[*wire.DeltaReject](s)
		if len(r) != 1 || len(s.sends) != 1 {
			t.Fatalf("sent %+v, want one DeltaReject", s.sends)
		}
		return r[0]
	}
	if r := rejectOf(d.frame(1, bad)); r.Reason != "not authenticated" || !bytes.Equal(r.Compensation, permissionDenied04) {
		t.Fatalf("unauthenticated: %+v", r)
	}
	d.frame(1, handshake("t", 1))
	if r := rejectOf(d.frame(1, bad)); r.Reason != "empty delta" || r.Compensation != nil {
		t.Fatalf("empty: %+v", r)
	}
	bad.Delta = []byte{1, 'x'}
	r := rejectOf(d.frame(1, bad))
	if want := "CRC32C mismatch: expected 0x00000005, computed 0x1982e367"; r.Reason != want ||
		!bytes.Equal(r.Compensation, integrityViolation04) {
		t.Fatalf("bad checksum: %+v, want %q with IntegrityViolation", r, want)
	}
	bad.Seal()
	if r := rejectOf(d.frame(1, bad)); r.Reason != "unknown collection: nope" {
		t.Fatalf("unknown collection: %+v", r)
	}
	if o.LastSeen(7) != 1 {
		t.Fatal("the dedup mark did not move before the collection was validated")
	}
	bad.Collection, bad.MutationID, bad.Delta = "c0", 2, []byte{7, 7}
	bad.Seal()
	if r := rejectOf(d.frame(1, bad)); !strings.Contains(r.Reason, "malformed delta payload") {
		t.Fatalf("undecodable payload: %+v", r)
	}
}

// Under the zerompk 0.6 profile the hint is the bare variant name.
func TestOriginCompensationProfile(t *testing.T) {
	o := NewOrigin(sim.Env{Collections: []string{"c0"}}, OriginConfig{})
	d := newDriver(t, o)
	d.codec = wire.NewCodec(wire.Zerompk06, 0)
	d.fx = sim.NewEffects(d.codec)
	d.step(sim.Input{Kind: sim.InConnUp, Conn: 1, Peer: 1})
	r := sendsOf[*wire.DeltaReject](d.frame(1, push("c0", "a", 7, 1, "v")))
	if len(r) != 1 || !bytes.Equal(r[0].Compensation, append([]byte{0xb0}, "PermissionDenied"...)) {
		t.Fatalf("reject %+v, want the bare name PermissionDenied", r)
	}
}

// One WAL LSN across collections: a write to c1 makes the next c0 delta's
// LSN jump; the snapshot is taken at the current WAL LSN.
func TestOriginSharedWAL(t *testing.T) {
	o, d := originWithSession(t, OriginConfig{})
	d.frame(1, &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{ShapeID: "shape:c0", ShapeType: wire.ShapeType{Collection: "c0"}}})
	var lsns []uint64
	for i, w := range []sim.Write{{Collection: "c0", DocID: "a", Value: []byte("1")}, {Collection: "c1", DocID: "b", Value: []byte("2")},
		{Collection: "c1", DocID: "b", Value: []byte("3")}, {Collection: "c0", DocID: "a"}} {
		s := d.step(sim.Input{Kind: sim.InWrite, Write: w})
		if c := eventsOf[*sim.Committed](s); len(c) != 1 || c[0].LSN != uint64(i+1) {
			t.Fatalf("write %d committed %+v, want WAL LSN %d", i, c, i+1)
		}
		for _, m := range sendsOf[*wire.ShapeDelta](s) {
			lsns = append(lsns, m.LSN)
		}
	}
	if !slices.Equal(lsns, []uint64{1, 4}) {
		t.Fatalf("c0's deltas at LSNs %v, want [1 4]", lsns)
	}
	s := d.frame(1, &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{ShapeID: "shape:c1", ShapeType: wire.ShapeType{Collection: "c1"}}})
	snap := sendsOf[*wire.ShapeSnapshot](s)
	if len(snap) != 1 || snap[0].SnapshotLSN != 4 || snap[0].ShapeID != "shape:c1" {
		t.Fatalf("snapshot %+v, want c1's at the current WAL LSN 4", snap)
	}
	c, err := model.LoadSnapshot("c1", snap[0].Data, snap[0].DocCount)
	if err != nil || c.Digest() != o.Collection("c1").Digest() {
		t.Fatalf("snapshot data: %v, digest %#x want %#x", err, c.Digest(), o.Collection("c1").Digest())
	}
	p := probe(o)
	if p.Collections[0].LSN != 4 || p.Collections[1].LSN != 3 {
		t.Fatalf("probe %+v, want c0 at 4 and c1 at 3", p.Collections)
	}
}

func TestOriginHandshake(t *testing.T) {
	o := NewOrigin(sim.Env{Collections: []string{"c0"}}, OriginConfig{})
	d := newDriver(t, o)
	for i, tc := range []struct {
		version uint16
		ok      bool
	}{{0, true}, {1, true}, {4, true}, {5, false}, {65535, false}} {
		conn := sim.ConnID(i + 1)
		d.step(sim.Input{Kind: sim.InConnUp, Conn: conn, Peer: 1})
		ack := sendsOf[*wire.HandshakeAck](d.frame(conn, handshake("t", tc.version)))[0]
		if ack.Success != tc.ok || ack.ServerWireVersion != serverWireVersion {
			t.Errorf("wire version %d: %+v", tc.version, ack)
		}
		if !tc.ok && (ack.Error == nil || *ack.Error != "incompatible wire version: "+strconv.Itoa(int(tc.version))) {
			t.Errorf("wire version %d: error %v", tc.version, ack.Error)
		}
		// A refused session stays unauthenticated.
		if r := sendsOf[*wire.DeltaReject](d.frame(conn, push("c0", "a", 9, uint64(i+1), "v"))); tc.ok == (len(r) == 1) {
			t.Errorf("wire version %d: push answered %+v", tc.version, r)
		}
	}
	// An empty token: trust mode, authenticated at once.
	d.step(sim.Input{Kind: sim.InConnUp, Conn: 9, Peer: 1})
	hs := handshake("", 1)
	hs.VectorClock = map[string]map[string]uint64{"c0": {"lsn": 12}, "x": {"a": 30}}
	if ack := sendsOf[*wire.HandshakeAck](d.frame(9, hs))[0]; !ack.Success {
		t.Fatalf("empty token refused: %+v", ack)
	}
	s := o.session(9)
	if !s.authenticated || s.identity != trustIdentity || s.role != roleReadWrite || s.lastSeenLSN != 30 {
		t.Fatalf("trust-mode session %+v", s)
	}
}

func TestOriginMaxSessions(t *testing.T) {
	o := NewOrigin(sim.Env{Collections: []string{"c0"}}, OriginConfig{MaxSessions: 2})
	d := newDriver(t, o)
	for conn := sim.ConnID(1); conn <= 3; conn++ {
		s := d.step(sim.Input{Kind: sim.InConnUp, Conn: conn, Peer: 1})
		if closed := len(s.closes) == 1; closed != (conn == 3) {
			t.Fatalf("conn %d: closes %v", conn, s.closes)
		}
	}
	if n := len(probe(o).Sessions); n != 2 {
		t.Fatalf("%d sessions, want 2", n)
	}
}

// The idle timeout is checked when a frame arrives: a frame that does not
// count as activity (a ShapeSubscribe) finding the session idle past 300 s
// closes it; a ping counts as activity and does not.
func TestOriginIdleTimeoutOnFrame(t *testing.T) {
	o, d := originWithSession(t, OriginConfig{})
	d.now = idleTimeout + sim.Second
	if s := d.frame(1, &wire.PingPong{TimestampMs: 1}); len(s.closes) != 0 {
		t.Fatal("a ping closed the session")
	}
	d.now += idleTimeout + sim.Second
	s := d.frame(1, &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{ShapeID: "shape:c0", ShapeType: wire.ShapeType{Collection: "c0"}}})
	if len(s.closes) != 1 || len(probe(o).Sessions) != 0 {
		t.Fatalf("idle session not closed: %+v", s)
	}
}

func TestOriginDecodeError(t *testing.T) {
	_, d := originWithSession(t, OriginConfig{})
	s := d.step(sim.Input{Kind: sim.InFrame, Conn: 1, Frame: []byte{0x10, 3, 0, 0, 0, 0x93}})
	if len(eventsOf[*sim.DecodeError](s)) != 1 || len(s.sends) != 0 {
		t.Fatalf("%+v, want one decode-error", s)
	}
}

// The channel with DrainOnReceive fills and drops the newest delta.
func TestOriginQueueFullDrops(t *testing.T) {
	o, d := originWithSession(t, OriginConfig{DrainOnReceive: true, MaxQueuePerSession: 3})
	d.frame(1, &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{ShapeID: "shape:c0", ShapeType: wire.ShapeType{Collection: "c0"}}})
	for i := range 5 {
		d.step(sim.Input{Kind: sim.InWrite, Write: sim.Write{Collection: "c0", DocID: "a", Value: []byte{byte('0' + i)}}})
	}
	if p := probe(o); p.Sessions[0].Backlog != 3 || o.Dropped(1) != 2 {
		t.Fatalf("backlog %d dropped %d, want 3 and 2", p.Sessions[0].Backlog, o.Dropped(1))
	}
	var lsns []uint64
	for _, m := range sendsOf[*wire.ShapeDelta](d.frame(1, &wire.PingPong{})) {
		lsns = append(lsns, m.LSN)
	}
	if !slices.Equal(lsns, []uint64{1, 2, 3}) {
		t.Fatalf("drained %v, want the three oldest", lsns)
	}
	// Drained at once (the default), the channel never holds anything.
	o2, d2 := originWithSession(t, OriginConfig{MaxQueuePerSession: 1})
	d2.frame(1, &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{ShapeID: "shape:c0", ShapeType: wire.ShapeType{Collection: "c0"}}})
	for range 5 {
		if s := d2.step(sim.Input{Kind: sim.InWrite, Write: sim.Write{Collection: "c0", DocID: "a", Value: []byte("v")}}); len(sendsOf[*wire.ShapeDelta](s)) != 1 {
			t.Fatal("a delta was not sent at once")
		}
	}
	if o2.Dropped(1) != 0 || probe(o2).Sessions[0].Backlog != 0 {
		t.Fatal("the drained-at-once channel filled")
	}
}

func TestImpls(t *testing.T) {
	l, o := LiteImpl(LiteConfig{}), OriginImpl(OriginConfig{})
	if l.Name != "nodedb-2026" || o.Name != "nodedb-2026" {
		t.Fatalf("names %q, %q", l.Name, o.Name)
	}
	if !slices.Equal(l.Claims.Properties, []string{check.Convergence}) || l.Claims.Queue != nil {
		t.Fatalf("lite claims %+v", l.Claims)
	}
	want := []string{check.AckedNotLost, check.AppliedOnce, check.NoBadChecksum, check.Convergence}
	if !slices.Equal(o.Claims.Properties, want) || o.Claims.Throttle != nil {
		t.Fatalf("origin claims %+v", o.Claims)
	}
	for _, impl := range []sim.Impl{l, o} {
		if _, err := impl.New(sim.Env{Collections: []string{"c0"}}); err != nil {
			t.Fatal(err)
		}
	}
}

// The DeltaPush checks as a table: each row fails several checks and must
// get the answer of the first in NodeDB's order (authentication, empty
// delta, checksum, dedup, rate limit), or pass them all.
func TestOriginPushCheckOrderTable(t *testing.T) {
	type reply int
	const (
		rejected reply = iota
		ackedOnly
		ackedCommitted
		silence
	)
	bad := func(p *wire.DeltaPush) *wire.DeltaPush { p.Checksum ^= 1; return p }
	empty := func(p *wire.DeltaPush) *wire.DeltaPush { p.Delta = nil; return p }
	legacy := func(p *wire.DeltaPush) *wire.DeltaPush { p.Checksum = 0; return p }
	for _, tc := range []struct {
		name       string
		authed     bool
		mark       uint64 // the peer's dedup mark before the push (0: none)
		bucketDry  bool   // the session's rate-limit bucket is empty
		push       *wire.DeltaPush
		want       reply
		reason     string // for rejected: a substring of the reason
		markAfter  uint64
		commitLSN  uint64 // for ackedCommitted
		rejectHint string
	}{
		{"unauthenticated, empty, bad checksum, duplicate", false, 5, true, bad(empty(push("c0", "d", 7, 3, "v"))), rejected, "not authenticated", 5, 0, hintPermissionDenied},
		{"empty before the checksum", true, 5, true, bad(empty(push("c0", "d", 7, 3, "v"))), rejected, "empty delta", 5, 0, ""},
		{"bad checksum before dedup", true, 5, true, bad(push("c0", "d", 7, 3, "v")), rejected, "CRC32C mismatch: expected 0x", 5, 0, hintIntegrityViolation},
		{"dedup before the rate limit: acked, lsn 0, not applied", true, 5, true, push("c0", "d", 7, 5, "v"), ackedOnly, "", 5, 0, ""},
		{"rate limited: silently dropped, mark unmoved", true, 5, true, push("c0", "d", 7, 6, "v"), silence, "", 5, 0, ""},
		{"admitted: acked with lsn 0, committed, mark = max", true, 5, false, push("c0", "d", 7, 9, "v"), ackedCommitted, "", 9, 1, ""},
		{"a legacy zero checksum is not checked", true, 0, false, legacy(push("c0", "d", 7, 1, "v")), ackedCommitted, "", 1, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOrigin(sim.Env{Collections: []string{"c0"}}, OriginConfig{})
			d := newDriver(t, o)
			d.step(sim.Input{Kind: sim.InConnUp, Conn: 1, Peer: 1})
			if tc.authed {
				d.frame(1, handshake("", 1))
			}
			if tc.mark > 0 {
				o.lastSeenMutation[7] = tc.mark
			}
			if tc.bucketDry {
				o.session(1).tokens = 0
			}
			s := d.frame(1, tc.push)
			acks, rejects, commits := sendsOf[*wire.DeltaAck](s), sendsOf[*wire.DeltaReject](s), eventsOf[*sim.Committed](s)
			switch tc.want {
			case rejected:
				if len(rejects) != 1 || !strings.Contains(rejects[0].Reason, tc.reason) || len(commits) != 0 {
					t.Fatalf("sent %+v, want a rejection naming %q", s.sends, tc.reason)
				}
				if tc.rejectHint != "" && !bytes.Equal(rejects[0].Compensation, hints04[tc.rejectHint]) {
					t.Fatalf("compensation %x, want %s", rejects[0].Compensation, tc.rejectHint)
				}
			case ackedOnly, ackedCommitted:
				if len(acks) != 1 || acks[0].LSN != 0 || acks[0].MutationID != tc.push.MutationID || len(rejects) != 0 {
					t.Fatalf("sent %+v, want one DeltaAck with lsn 0", s.sends)
				}
				if committed := len(commits) == 1 && commits[0].LSN == tc.commitLSN; committed != (tc.want == ackedCommitted) {
					t.Fatalf("commits %+v", commits)
				}
			case silence:
				if len(s.sends) != 0 || len(commits) != 0 {
					t.Fatalf("sent %+v, committed %+v: want nothing", s.sends, commits)
				}
			}
			if got := o.LastSeen(7); got != tc.markAfter {
				t.Fatalf("dedup mark %d, want %d", got, tc.markAfter)
			}
		})
	}
}

// The compensation hints as zerompk 0.4 writes a unit variant,
// [name, nil], spelled out byte by byte.
var (
	permissionDenied04   = append(append([]byte{0x92, 0xb0}, "PermissionDenied"...), 0xc0)
	integrityViolation04 = append(append([]byte{0x92, 0xb2}, "IntegrityViolation"...), 0xc0)
	hints04              = map[string][]byte{"PermissionDenied": permissionDenied04, "IntegrityViolation": integrityViolation04}
)
