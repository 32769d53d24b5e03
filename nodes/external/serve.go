package external

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/internal/flatjson"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// journalName is the file in its state directory where a served node
// keeps every input it was given: its durable state. After a crash the
// new process replays it into a fresh node and crashes that, which leaves
// exactly the durable state the first process had.
const journalName = "journal.jsonl"

// Serve speaks the protocol on r and w for a node of impl: what
// `simrun node lite|origin` does, so that the protocol is exercised by a
// complete implementation. It returns when r ends (nil) or on an error in
// the protocol, which it also reports on w's peer's terms: it exits.
func Serve(r io.Reader, w io.Writer, impl sim.Impl) error {
	in := bufio.NewReaderSize(r, 64<<10)
	out := bufio.NewWriterSize(w, 64<<10)
	line, err := readLine(in)
	if err != nil {
		return fmt.Errorf("reading the hello: %w", err)
	}
	var h Hello
	if err := strictJSON(line, &h); err != nil || h.In != "hello" {
		return fmt.Errorf("the first line is not a hello: %s", abbreviate(line))
	}
	if h.Version != Version {
		return fmt.Errorf("the harness speaks version %d, this node %d", h.Version, Version)
	}
	s, err := newServed(h, impl)
	if err != nil {
		return err
	}
	defer s.journal.Close()
	b, _ := json.Marshal(ReplyOf(impl.Name, impl.Claims, s.controls()))
	out.Write(append(b, '\n'))
	if err := out.Flush(); err != nil {
		return err
	}
	for {
		line, err := readLine(in)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.handle(line, out, true); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

// served is the node behind Serve.
type served struct {
	node    sim.Node
	fx      *sim.Effects
	journal *os.File
	buf     []byte
	probe   sim.Probe
	fields  []flatjson.Field
	frame   []byte // the input frame: a node copies what it keeps
}

func newServed(h Hello, impl sim.Impl) (*served, error) {
	seed, err := parseSeed(h.Seed)
	if err != nil {
		return nil, err
	}
	role := sim.RoleLite
	if h.Role == "origin" {
		role = sim.RoleOrigin
	}
	prof, ok := wire.ProfileByName(h.Wire)
	if !ok {
		return nil, fmt.Errorf("unknown wire profile %q", h.Wire)
	}
	env := sim.Env{ID: sim.NodeID(h.ID), Name: h.Name, Role: role, Origin: sim.NodeID(h.Origin), PeerID: h.PeerID,
		Collections: h.Collections, Seed: seed, Rand: rand.New(rand.NewPCG(seed[0], seed[1]))}
	n, err := impl.New(env)
	if err != nil {
		return nil, err
	}
	s := &served{node: n, fx: sim.NewEffects(wire.NewCodec(prof, 0))}
	path := filepath.Join(h.StateDir, journalName)
	if h.Restart {
		if err := s.replay(path); err != nil {
			return nil, err
		}
		n.Crash()
	}
	if s.journal, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if h.Restart {
		// The crash is part of the history a later replay must repeat.
		if _, err := s.journal.Write([]byte(`{"in":"crash"}` + "\n")); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
	}
	return s, nil
}

// replay feeds the journal to the fresh node, discarding its effects.
func (s *served) replay(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := readLine(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		if err := s.handle(line, io.Discard, false); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
}

func (s *served) controls() []string {
	var c []string
	if _, ok := s.node.(faults.Slower); ok {
		c = append(c, ControlSlow)
	}
	if _, ok := s.node.(faults.ClockSkewer); ok {
		c = append(c, ControlSkew)
	}
	if _, ok := s.node.(faults.DurableCorruptor); ok {
		c = append(c, ControlCorrupt)
	}
	return c
}

var inputKinds = map[string]sim.InputKind{"start": sim.InStart, "restart": sim.InRestart, "conn-up": sim.InConnUp,
	"conn-down": sim.InConnDown, "frame": sim.InFrame, "timer": sim.InTimer, "write": sim.InWrite}

// handle carries out one line: a step (effects written to out, the line
// journalled when live), a probe or a control.
func (s *served) handle(line []byte, out io.Writer, live bool) error {
	in, fields, err := parseInput(line, s.fields[:0])
	s.fields = fields
	if err != nil {
		return fmt.Errorf("bad input line %s: %v", abbreviate(line), err)
	}
	switch in.In {
	case "crash": // only in the journal: where an earlier process was killed
		if live {
			return errors.New(`"crash" is not an input: the harness kills the process`)
		}
		s.node.Crash()
		return nil
	case "probe":
		s.probe.Reset()
		s.node.Probe(&s.probe)
		s.buf = appendProbe(s.buf[:0], &s.probe)
		s.buf = append(s.buf, `{"fx":"end"}`+"\n"...)
		_, err = out.Write(s.buf)
		return err
	case "control":
		if err := s.control(in.input); err != nil {
			return err
		}
	default:
		k, ok := inputKinds[in.In]
		if !ok {
			return fmt.Errorf("unknown input %q", in.In)
		}
		si := sim.Input{Kind: k, Conn: sim.ConnID(in.Conn), Peer: sim.NodeID(in.Peer), Timer: in.Tag}
		switch k {
		case sim.InFrame:
			f, err := hex.AppendDecode(s.frame[:0], in.frame)
			if err != nil {
				return fmt.Errorf("frame is not hex: %v", err)
			}
			s.frame, si.Frame = f, f
		case sim.InWrite:
			si.Write = sim.Write{Collection: in.Collection, DocID: in.Doc}
			if in.value != nil {
				v, err := hex.AppendDecode(nil, in.value) // the node keeps it
				if err != nil {
					return fmt.Errorf("value is not hex: %v", err)
				}
				si.Write.Value = v
			}
		}
		s.fx.Reset()
		s.node.Step(sim.Time(in.T), &si, s.fx)
		if !live {
			return nil // a replay of the journal: nobody reads these effects
		}
		s.buf = s.buf[:0]
		for i := range s.fx.List() {
			s.buf = appendEffect(s.buf, &s.fx.List()[i])
		}
	}
	if live {
		// Journalled before the end line goes out: the harness kills a
		// process only between steps, so no acknowledged input is lost.
		if _, err := s.journal.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	s.buf = append(s.buf, `{"fx":"end"}`+"\n"...)
	_, err = out.Write(s.buf)
	s.buf = s.buf[:0]
	return err
}

func (s *served) control(in input) error {
	s.buf = s.buf[:0]
	switch in.Control {
	case ControlSlow:
		if n, ok := s.node.(faults.Slower); ok {
			n.SlowDown(in.Factor)
		}
	case ControlSkew:
		if n, ok := s.node.(faults.ClockSkewer); ok {
			n.SetClockSkew(sim.Time(in.OffsetNs))
		}
	case ControlCorrupt:
		seed, err := parseSeed(in.Seed)
		if err != nil {
			return err
		}
		if n, ok := s.node.(faults.DurableCorruptor); ok {
			n.CorruptDurable(seed)
		}
	default:
		return fmt.Errorf("unknown control %q", in.Control)
	}
	return nil
}

func readLine(r *bufio.Reader) ([]byte, error) {
	var long []byte
	for {
		b, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, b...)
			if len(long) > MaxLine {
				return nil, fmt.Errorf("a line longer than %d bytes", MaxLine)
			}
			continue
		}
		if long != nil {
			b = append(long, b...)
		}
		if err == io.EOF && len(b) > 0 {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		return b[:len(b)-1], nil
	}
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// parsed is an input line, read without reflection.
type parsed struct {
	input
	frame, value []byte // hex, pointing into the line
}

// parseInput reads an input line (strictly: unknown members are errors).
func parseInput(line []byte, buf []flatjson.Field) (parsed, []flatjson.Field, error) {
	fs, err := flatjson.Scan(line, buf)
	if err != nil {
		return parsed{}, fs, err
	}
	var p parsed
	for i := range fs {
		f := &fs[i]
		var err error
		switch string(f.Key) {
		case "in":
			p.In, err = f.Str()
		case "t":
			p.T, err = f.Int()
		case "conn":
			p.Conn, err = f.Uint(64)
		case "peer":
			var n int64
			n, err = f.Int()
			p.Peer = int(n)
		case "frame":
			if f.Kind != flatjson.String {
				err = fmt.Errorf("\"frame\" is %s, want hex digits", f.Kind)
			}
			p.frame = f.Raw
		case "tag":
			p.Tag, err = f.Uint(64)
		case "collection":
			p.Collection, err = f.Str()
		case "doc":
			p.Doc, err = f.Str()
		case "value":
			switch f.Kind {
			case flatjson.Null:
			case flatjson.String:
				p.value = f.Raw
				if p.value == nil {
					p.value = []byte{}
				}
			default:
				err = fmt.Errorf("\"value\" is %s, want hex digits or null", f.Kind)
			}
		case "control":
			p.Control, err = f.Str()
		case "factor":
			p.Factor, err = f.Float()
		case "offset_ns":
			p.OffsetNs, err = f.Int()
		case "seed":
			p.Seed, err = f.Str()
		default:
			err = fmt.Errorf("unknown member %q", f.Key)
		}
		if err != nil {
			return parsed{}, fs, err
		}
	}
	return p, fs, nil
}
