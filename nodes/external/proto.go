package external

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/syncsim/syncsim/internal/flatjson"
	"github.com/syncsim/syncsim/sim"
)

// Version is the protocol version this package speaks; a node answers the
// hello with the version it speaks, and a mismatch ends the run with a
// node error naming both.
const Version = 1

// MaxLine bounds one line of either side: a frame of the wire's 16 MiB
// body limit, in hex, with room for the rest of the line.
const MaxLine = 2*(16<<20+5) + 4096

// Hello is the harness's first line to a process: who it is.
type Hello struct {
	In          string   `json:"in"` // "hello"
	Version     int      `json:"version"`
	Role        string   `json:"role"` // "origin" or "lite"
	ID          int      `json:"id"`
	Name        string   `json:"name"`
	Origin      int      `json:"origin"`
	PeerID      uint64   `json:"peer_id"`
	Collections []string `json:"collections"`
	Seed        string   `json:"seed"` // 32 hex digits: the node's 128-bit seed
	StateDir    string   `json:"state_dir"`
	Wire        string   `json:"wire"`    // the wire profile, e.g. "zerompk-0.4"
	Restart     bool     `json:"restart"` // true: a new process after a crash, same state_dir
}

// HelloReply is a node's answer to the hello: the version it speaks, its
// name and what it claims.
type HelloReply struct {
	Fx       string    `json:"fx"` // "hello"
	Version  int       `json:"version"`
	Name     string    `json:"name"`
	Claims   []string  `json:"claims"`
	Throttle *Throttle `json:"throttle,omitempty"`
	Queue    *Queue    `json:"queue,omitempty"`
	Controls []string  `json:"controls,omitempty"` // the controls it honours: slow, skew, corrupt
	// SharedLSN: an Origin's LSNs are positions in one log of all
	// collections (see sim.Claims.SharedLSN).
	SharedLSN bool `json:"shared_lsn,omitempty"`
}

// Throttle is an Origin's pacing promise in a hello reply.
type Throttle struct {
	DefaultRate float64 `json:"default_rate"`
	Burst       float64 `json:"burst"`
	LeaseNs     int64   `json:"lease_ns"`
}

// Queue is a Lite's incoming queue in a hello reply.
type Queue struct {
	Capacity  int `json:"capacity"`
	HighWater int `json:"high_water"`
	LowWater  int `json:"low_water"`
}

// claims turns a hello reply into the contract's claims.
func (h *HelloReply) claims() sim.Claims {
	c := sim.Claims{Properties: h.Claims, SharedLSN: h.SharedLSN}
	if t := h.Throttle; t != nil {
		c.Throttle = &sim.ThrottleTerms{DefaultRate: t.DefaultRate, Burst: t.Burst, Lease: sim.Time(t.LeaseNs)}
	}
	if q := h.Queue; q != nil {
		c.Queue = &sim.QueueTerms{Capacity: q.Capacity, HighWater: q.HighWater, LowWater: q.LowWater}
	}
	return c
}

// ReplyOf is the hello reply of an implementation named name with claims c
// and the controls it honours.
func ReplyOf(name string, c sim.Claims, controls []string) HelloReply {
	r := HelloReply{Fx: "hello", Version: Version, Name: name, Claims: c.Properties, Controls: controls, SharedLSN: c.SharedLSN}
	if t := c.Throttle; t != nil {
		r.Throttle = &Throttle{DefaultRate: t.DefaultRate, Burst: t.Burst, LeaseNs: int64(t.Lease)}
	}
	if q := c.Queue; q != nil {
		r.Queue = &Queue{Capacity: q.Capacity, HighWater: q.HighWater, LowWater: q.LowWater}
	}
	return r
}

// The controls a node may honour: fault injections that act inside a node
// rather than on the network.
const (
	ControlSlow    = "slow"    // drain incoming deltas at factor of the normal rate (1: normal again)
	ControlSkew    = "skew"    // the device clock is offset_ns off (0: true again)
	ControlCorrupt = "corrupt" // damage the durable state (sent after a restart's hello, before "restart")
)

// input is one line to a node: an input of the contract with its virtual
// time, a probe, or a control. appendInput writes a step's by hand (this
// is the hot path), a control's is marshalled; parseInput reads them (the
// frame and the value, hex, in its parsed).
type input struct {
	In         string  `json:"in"`
	T          int64   `json:"t"`
	Conn       uint64  `json:"conn,omitempty"`
	Peer       int     `json:"peer,omitempty"`
	Tag        uint64  `json:"tag,omitempty"`
	Collection string  `json:"collection,omitempty"`
	Doc        string  `json:"doc,omitempty"`
	Control    string  `json:"control,omitempty"`
	Factor     float64 `json:"factor,omitempty"`
	OffsetNs   int64   `json:"offset_ns,omitempty"`
	Seed       string  `json:"seed,omitempty"`
}

// appendInput writes in (at now) as one line.
func appendInput(b []byte, now sim.Time, in *sim.Input) []byte {
	b = append(b, `{"in":"`...)
	b = append(b, in.Kind.String()...)
	b = append(b, `","t":`...)
	b = strconv.AppendInt(b, int64(now), 10)
	switch in.Kind {
	case sim.InConnUp, sim.InConnDown:
		b = appendConnPeer(b, in)
	case sim.InFrame:
		b = appendConnPeer(b, in)
		b = append(b, `,"frame":"`...)
		b = hex.AppendEncode(b, in.Frame)
		b = append(b, '"')
	case sim.InTimer:
		b = append(b, `,"tag":`...)
		b = strconv.AppendUint(b, in.Timer, 10)
	case sim.InWrite:
		b = append(b, `,"collection":`...)
		b = flatjson.AppendString(b, in.Write.Collection)
		b = append(b, `,"doc":`...)
		b = flatjson.AppendString(b, in.Write.DocID)
		if in.Write.Value == nil {
			b = append(b, `,"value":null`...)
		} else {
			b = append(b, `,"value":"`...)
			b = hex.AppendEncode(b, in.Write.Value)
			b = append(b, '"')
		}
	}
	return append(b, "}\n"...)
}

func appendConnPeer(b []byte, in *sim.Input) []byte {
	b = append(b, `,"conn":`...)
	b = strconv.AppendUint(b, uint64(in.Conn), 10)
	b = append(b, `,"peer":`...)
	return strconv.AppendInt(b, int64(in.Peer), 10)
}

// Line is one line from a node, decoded: an effect, a probe answer, a
// hello reply or the end of a step. The fields of its Fx are set.
type Line struct {
	Fx string
	// send, close
	Conn  sim.ConnID
	Frame []byte
	// timer
	After sim.Time
	Tag   uint64
	// dial
	Peer sim.NodeID
	// event
	Event sim.Event
	// probe
	Probe *sim.Probe
	// hello
	Hello *HelloReply
}

type rawProbe struct {
	Fx          string `json:"fx"`
	Collections []struct {
		Name   string `json:"name"`
		LSN    uint64 `json:"lsn"`
		Digest string `json:"digest"`
	} `json:"collections"`
	Connected  bool `json:"connected"`
	Unacked    int  `json:"unacked"`
	Resyncing  int  `json:"resyncing"`
	QueueDepth int  `json:"queue_depth"`
	Throttled  bool `json:"throttled"`
	Sessions   []struct {
		Conn      uint64  `json:"conn"`
		Peer      int     `json:"peer"`
		Throttled bool    `json:"throttled"`
		Rate      float64 `json:"rate"`
		Backlog   uint64  `json:"backlog"`
	} `json:"sessions"`
}

// ParseLine reads one line a node wrote. Every error says what is wrong
// with it; the caller adds where it was. The lines of a step are read
// without reflection (internal/flatjson); a probe or hello reply, nested,
// with encoding/json.
func ParseLine(b []byte) (Line, error) { return parseLine(b, nil) }

// fxNames are the effects' names, so that reading one allocates nothing.
var fxNames = []string{"send", "timer", "dial", "close", "event", "end", "probe", "hello"}

// parseLine is ParseLine decoding a send's frame into frame's memory (the
// caller's buffer, reused from line to line: it copies the frame it keeps).
func parseLine(b, frame []byte) (Line, error) {
	b = bytes.TrimSpace(b)
	var buf [8]flatjson.Field
	fs, err := flatjson.Scan(b, buf[:0])
	if err != nil {
		return Line{}, fmt.Errorf("not a JSON object: %v", err)
	}
	var fx string
	for i := range fs {
		if f := &fs[i]; string(f.Key) == "fx" {
			if f.Kind != flatjson.String {
				return Line{}, fmt.Errorf(`"fx" is %s, want a string`, f.Kind)
			}
			fx = string(f.Raw) // an unknown name: the error below quotes it
			for _, n := range fxNames {
				if n == string(f.Raw) {
					fx = n
				}
			}
		}
	}
	l := Line{Fx: fx}
	var have uint8 // a bit per required member seen
	for i := range fs {
		f := &fs[i]
		if string(f.Key) == "fx" {
			continue
		}
		known := true
		switch fx {
		case "send", "close":
			switch {
			case string(f.Key) == "conn":
				n, err := f.Uint(64)
				if err != nil {
					return Line{}, fmt.Errorf("%s: %v", fx, err)
				}
				l.Conn, have = sim.ConnID(n), have|1
			case string(f.Key) == "frame" && fx == "send":
				if f.Kind != flatjson.String {
					return Line{}, fmt.Errorf("send: \"frame\" is %s, want hex digits", f.Kind)
				}
				if l.Frame, err = hex.AppendDecode(frame[:0], f.Raw); err != nil {
					return Line{}, fmt.Errorf("send: frame is not hex: %v", err)
				}
				have |= 2
			default:
				known = false
			}
		case "timer":
			switch string(f.Key) {
			case "after_ns":
				n, err := f.Int()
				if err != nil || n < 0 {
					return Line{}, fmt.Errorf("timer: \"after_ns\" is %s: want nanoseconds, 0 or more", f.Raw)
				}
				l.After, have = sim.Time(n), have|1
			case "tag":
				n, err := f.Uint(64)
				if err != nil {
					return Line{}, fmt.Errorf("timer: %v", err)
				}
				l.Tag, have = n, have|2
			default:
				known = false
			}
		case "dial":
			if string(f.Key) != "peer" {
				known = false
				break
			}
			n, err := f.Int()
			if err != nil || n < 0 {
				return Line{}, fmt.Errorf("dial: \"peer\" is %s: want a node id", f.Raw)
			}
			l.Peer, have = sim.NodeID(n), have|1
		case "end":
			known = false
		}
		if !known {
			return Line{}, fmt.Errorf("%s: unknown member %q", fx, f.Key)
		}
	}
	switch fx {
	case "end":
		return l, nil
	case "send", "timer":
		if have != 3 {
			return Line{}, fmt.Errorf("%q needs %s", fx, map[string]string{"send": `"conn" and "frame"`, "timer": `"after_ns" and "tag"`}[fx])
		}
		if fx == "send" && len(l.Frame) == 0 {
			return Line{}, errors.New("send: an empty frame")
		}
		return l, nil
	case "dial", "close":
		if have != 1 {
			return Line{}, fmt.Errorf("%q needs %s", fx, map[string]string{"dial": `"peer"`, "close": `"conn"`}[fx])
		}
		return l, nil
	case "event":
		e, err := sim.ParseEventFields(fs, "fx")
		if err != nil {
			return Line{}, err
		}
		return Line{Fx: "event", Event: e}, nil
	case "probe":
		var rp rawProbe
		if err := strictJSON(b, &rp); err != nil {
			return Line{}, fmt.Errorf("probe: %v", err)
		}
		p := &sim.Probe{Connected: rp.Connected, Unacked: rp.Unacked, Resyncing: rp.Resyncing, QueueDepth: rp.QueueDepth, Throttled: rp.Throttled}
		for _, c := range rp.Collections {
			d, err := strconv.ParseUint(c.Digest, 16, 64)
			if err != nil {
				return Line{}, fmt.Errorf("probe: digest %q of %s is not 16 hex digits", c.Digest, c.Name)
			}
			p.Collections = append(p.Collections, sim.CollectionState{Name: c.Name, LSN: c.LSN, Digest: d})
		}
		for _, s := range rp.Sessions {
			p.Sessions = append(p.Sessions, sim.SessionState{Conn: sim.ConnID(s.Conn), Peer: sim.NodeID(s.Peer),
				Throttled: s.Throttled, Rate: s.Rate, Backlog: s.Backlog})
		}
		return Line{Fx: "probe", Probe: p}, nil
	case "hello":
		var h HelloReply
		if err := strictJSON(b, &h); err != nil {
			return Line{}, fmt.Errorf("hello: %v", err)
		}
		return Line{Fx: "hello", Hello: &h}, nil
	case "":
		return Line{}, errors.New(`no "fx" member naming the effect`)
	}
	return Line{}, fmt.Errorf("unknown effect %q (want send, timer, dial, close, event, probe or end)", fx)
}

// appendProbe writes a probe answer as one line.
func appendProbe(b []byte, p *sim.Probe) []byte {
	b = append(b, `{"fx":"probe","collections":[`...)
	for i, c := range p.Collections {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = flatjson.AppendString(b, c.Name)
		b = append(b, `,"lsn":`...)
		b = strconv.AppendUint(b, c.LSN, 10)
		b = fmt.Appendf(b, `,"digest":"%016x"}`, c.Digest)
	}
	b = fmt.Appendf(b, `],"connected":%t,"unacked":%d,"resyncing":%d,"queue_depth":%d,"throttled":%t,"sessions":[`,
		p.Connected, p.Unacked, p.Resyncing, p.QueueDepth, p.Throttled)
	for i, s := range p.Sessions {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"conn":%d,"peer":%d,"throttled":%t,"rate":%s,"backlog":%d}`, s.Conn, s.Peer, s.Throttled,
			strconv.FormatFloat(s.Rate, 'g', -1, 64), s.Backlog)
	}
	return append(b, "]}\n"...)
}

// appendEffect writes one effect as one line.
func appendEffect(b []byte, e *sim.Effect) []byte {
	switch e.Kind {
	case sim.EffectSend:
		b = append(b, `{"fx":"send","conn":`...)
		b = strconv.AppendUint(b, uint64(e.Conn), 10)
		b = append(b, `,"frame":"`...)
		b = hex.AppendEncode(b, e.Frame)
		b = append(b, `"}`...)
	case sim.EffectTimer:
		b = append(b, `{"fx":"timer","after_ns":`...)
		b = strconv.AppendInt(b, int64(e.After), 10)
		b = append(b, `,"tag":`...)
		b = strconv.AppendUint(b, e.Tag, 10)
		b = append(b, '}')
	case sim.EffectDial:
		b = append(b, `{"fx":"dial","peer":`...)
		b = strconv.AppendInt(b, int64(e.Peer), 10)
		b = append(b, '}')
	case sim.EffectClose:
		b = append(b, `{"fx":"close","conn":`...)
		b = strconv.AppendUint(b, uint64(e.Conn), 10)
		b = append(b, '}')
	case sim.EffectEvent:
		b = append(b, `{"fx":"event",`...)
		b = sim.AppendEventMembers(b, e.Event)
		b = append(b, '}')
	}
	return append(b, '\n')
}

// seedHex writes a node's seed as the hello carries it.
func seedHex(s [2]uint64) string { return fmt.Sprintf("%016x%016x", s[0], s[1]) }

// parseSeed reads a seed written by seedHex.
func parseSeed(s string) ([2]uint64, error) {
	if len(s) != 32 {
		return [2]uint64{}, fmt.Errorf("seed %q: want 32 hex digits", s)
	}
	hi, err1 := strconv.ParseUint(s[:16], 16, 64)
	lo, err2 := strconv.ParseUint(s[16:], 16, 64)
	if err1 != nil || err2 != nil {
		return [2]uint64{}, fmt.Errorf("seed %q: want 32 hex digits", s)
	}
	return [2]uint64{hi, lo}, nil
}
