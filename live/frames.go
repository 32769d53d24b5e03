package live

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/coder/websocket"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// Limits every live command enforces.
const (
	// MaxFrameBytes is the largest frame read: a header and NodeDB's 16 MiB
	// body limit. A longer length field is refused before anything is
	// allocated for the body.
	MaxFrameBytes = wire.HeaderLen + wire.DefaultMaxBody
	// DefaultMaxConns is the connection limit, NodeDB's default session
	// limit.
	DefaultMaxConns = 1024
	// sendQueueFrames bounds the frames waiting to be written to one
	// connection; a peer that falls this far behind is disconnected
	// rather than buffered without bound.
	sendQueueFrames = 4096
	// writeTimeout bounds one frame's write to a peer.
	writeTimeout = 10 * time.Second
)

// Clock is live mode's time: the wall-clock time since the command
// started, in the simulator's unit, so that fault plans, checkers and
// result files read the same in both modes.
type Clock struct{ start time.Time }

// NewClock starts a clock at zero now.
func NewClock() Clock { return Clock{start: time.Now()} }

// Now is the time since the clock started.
func (c Clock) Now() sim.Time { return sim.Time(time.Since(c.start)) }

// Until is how long from now until t on this clock.
func (c Clock) Until(t sim.Time) time.Duration { return time.Until(c.start.Add(time.Duration(t))) }

// badMessage describes a WebSocket message that is not one well-formed
// frame. The bytes are still passed on (a node decodes and reports them;
// the proxy forwards them), except for a text message, which carries no
// frame.
type badMessage struct {
	Text bool   // a text message: not forwarded
	Why  string // a sentence: "a message of 3 bytes, shorter than the 5-byte frame header"
}

// errMidFrame is a connection that ended in the middle of a message.
var errMidFrame = errors.New("the connection closed in the middle of a frame")

// errTooLarge is a frame whose length field is over the limit: the
// connection is closed without reading the body.
var errTooLarge = errors.New("frame too large")

// readFrame reads one WebSocket message as a frame into buf's storage.
// It returns the message's bytes, and bad when they are not exactly one
// frame with a known type byte. The body is allocated only after the
// length field has been checked against MaxFrameBytes.
func readFrame(ctx context.Context, c *websocket.Conn, buf []byte) ([]byte, *badMessage, error) {
	typ, r, err := c.Reader(ctx)
	if err != nil {
		return nil, nil, err
	}
	if typ != websocket.MessageBinary {
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			return nil, nil, err
		}
		return nil, &badMessage{Text: true, Why: fmt.Sprintf("a text message of %d bytes (every frame is a binary message)", n)}, nil
	}
	var hdr [wire.HeaderLen]byte
	n, err := readAll(r, hdr[:])
	if err != nil {
		if err == io.EOF {
			return append(buf[:0], hdr[:n]...), &badMessage{Why: fmt.Sprintf("a message of %d bytes, shorter than the %d-byte frame header", n, wire.HeaderLen)}, nil
		}
		return nil, nil, fmt.Errorf("%w (after %d bytes): %v", errMidFrame, n, err)
	}
	size := binary.LittleEndian.Uint32(hdr[1:])
	if uint64(size) > wire.DefaultMaxBody {
		return nil, nil, fmt.Errorf("%w: type 0x%02x, length field %d bytes, the limit is %d", errTooLarge, hdr[0], size, wire.DefaultMaxBody)
	}
	total := wire.HeaderLen + int(size)
	if cap(buf) < total {
		buf = make([]byte, total)
	}
	buf = append(buf[:0], hdr[:]...)[:total]
	got, err := readAll(r, buf[wire.HeaderLen:])
	var bad *badMessage
	switch {
	case err == io.EOF:
		buf = buf[:wire.HeaderLen+got]
		bad = &badMessage{Why: fmt.Sprintf("the length field says %d body bytes, the message carries %d", size, got)}
	case err != nil:
		return nil, nil, fmt.Errorf("%w (after %d of %d bytes): %v", errMidFrame, wire.HeaderLen+got, total, err)
	default:
		extra, err := io.Copy(io.Discard, r)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", errMidFrame, err)
		}
		if extra > 0 {
			bad = &badMessage{Why: fmt.Sprintf("the length field says %d body bytes, the message carries %d more", size, extra)}
		}
	}
	if bad == nil && !wire.MsgType(hdr[0]).Known() {
		bad = &badMessage{Why: fmt.Sprintf("type byte 0x%02x is not a NodeDB sync message", hdr[0])}
	}
	return buf, bad, nil
}

// keepBuf is b kept as the next read's buffer, unless one large frame
// made it large: a connection does not hold 16 MiB for the rest of its
// life.
func keepBuf(b []byte) []byte {
	if cap(b) > 64<<10 {
		return nil
	}
	return b
}

// readAll fills b from a message's reader. It returns io.EOF only when
// the message itself ended first (a well-closed message, shorter than b);
// any other error means the connection broke inside the message.
func readAll(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := r.Read(b[n:])
		n += k
		if err == io.EOF {
			if n == len(b) {
				return n, nil
			}
			return n, io.EOF
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// closeStatus is the close code for a read error: a frame over the limit
// is StatusMessageTooBig, anything else a policy violation.
func closeStatus(err error) websocket.StatusCode {
	if errors.Is(err, errTooLarge) {
		return websocket.StatusMessageTooBig
	}
	return websocket.StatusPolicyViolation
}

// peerGone reports whether err only says the peer closed or the command
// is stopping: not worth a log line of its own.
func peerGone(err error) bool {
	if errors.Is(err, errMidFrame) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		return true
	}
	return false
}
