package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// AppendFrame appends m's frame to dst and returns the extended slice. With
// a dst of enough capacity it allocates nothing.
func (c *Codec) AppendFrame(dst []byte, m Message) ([]byte, error) {
	if m == nil {
		return dst, &Error{Kind: ErrEncode, Detail: "nil message"}
	}
	t := m.Type()
	if !t.Known() {
		return dst, &Error{Kind: ErrEncode, Type: t, Detail: "unknown type byte"}
	}
	start := len(dst)
	w := writerPool.Get().(*bodyWriter)
	w.buf, w.p = append(dst, byte(t), 0, 0, 0, 0), &c.profile
	m.encode(w)
	out := w.buf
	w.buf, w.p = nil, nil
	writerPool.Put(w)
	n := len(out) - start - HeaderLen
	if n > c.maxBody || uint64(n) > math.MaxUint32 {
		return dst, &Error{Kind: ErrEncode, Type: t, Detail: fmt.Sprintf("body of %d bytes exceeds the limit of %d", n, c.maxBody)}
	}
	binary.LittleEndian.PutUint32(out[start+1:], uint32(n))
	return out, nil
}

// Encode returns m's frame in a new slice.
func (c *Codec) Encode(m Message) ([]byte, error) { return c.AppendFrame(nil, m) }

// AppendBody appends only m's MessagePack body.
func (c *Codec) AppendBody(dst []byte, m Message) []byte {
	w := writerPool.Get().(*bodyWriter)
	w.buf, w.p = dst, &c.profile
	m.encode(w)
	out := w.buf
	w.buf, w.p = nil, nil
	writerPool.Put(w)
	return out
}

// ParseHeader reads the frame header at the start of b, checking the type
// byte and the length limit before anything is allocated. It does not need
// the body to be present.
func (c *Codec) ParseHeader(b []byte) (MsgType, int, error) {
	if len(b) < HeaderLen {
		return 0, 0, errorf(ErrShortHeader, 0, 0, "have %d bytes, a header is %d", len(b), HeaderLen)
	}
	t := MsgType(b[0])
	if !t.Known() {
		return 0, 0, errorf(ErrUnknownType, 0, 0, "type byte 0x%02x is not a NodeDB sync message", b[0])
	}
	n := binary.LittleEndian.Uint32(b[1:])
	if uint64(n) > uint64(c.maxBody) {
		return t, 0, errorf(ErrTooLarge, 1, t, "length field says %d bytes, the limit is %d", n, c.maxBody)
	}
	return t, int(n), nil
}

// SplitFrame cuts the first frame off b. It returns the type, the body (a
// sub-slice of b, not a copy) and the frame's total length.
func (c *Codec) SplitFrame(b []byte) (t MsgType, body []byte, size int, err error) {
	t, n, err := c.ParseHeader(b)
	if err != nil {
		return 0, nil, 0, err
	}
	if len(b)-HeaderLen < n {
		return t, nil, 0, errorf(ErrTruncated, HeaderLen, t, "length field says %d body bytes, %d present", n, len(b)-HeaderLen)
	}
	return t, b[HeaderLen : HeaderLen+n], HeaderLen + n, nil
}

// Decode decodes exactly one frame; bytes after it are an error.
func (c *Codec) Decode(b []byte) (Message, error) {
	t, body, size, err := c.SplitFrame(b)
	if err != nil {
		return nil, err
	}
	if size != len(b) {
		return nil, errorf(ErrTrailing, int64(size), t, "%d bytes after the frame", len(b)-size)
	}
	return c.decodeBody(t, body, HeaderLen)
}

// DecodeBody decodes a body of type t. Error offsets are relative to body.
func (c *Codec) DecodeBody(t MsgType, body []byte) (Message, error) {
	if !t.Known() {
		return nil, errorf(ErrUnknownType, 0, 0, "type byte 0x%02x is not a NodeDB sync message", byte(t))
	}
	return c.decodeBody(t, body, 0)
}

func (c *Codec) decodeBody(t MsgType, body []byte, base int64) (Message, error) {
	m := newMessage(t)
	if err := c.decodeInto(t, body, base, m); err != nil {
		return nil, err
	}
	return m, nil
}

func (c *Codec) decodeInto(t MsgType, body []byte, base int64, m Message) error {
	r := readerPool.Get().(*bodyReader)
	r.data, r.pos, r.base, r.t, r.p, r.err = body, 0, base, t, &c.profile, nil
	m.decode(r)
	err, pos := r.err, r.pos
	r.data, r.p, r.err = nil, nil, nil
	readerPool.Put(r)
	if err != nil {
		return err
	}
	if pos != len(body) {
		return errorf(ErrTrailing, base+int64(pos), t, "%d bytes after the body value", len(body)-pos)
	}
	return nil
}

// Frame is one frame cut from a stream: its offset in the stream, type and
// raw body.
type Frame struct {
	Offset int64
	Type   MsgType
	Body   []byte
}

// FrameReader cuts a byte stream into frames. Each frame's length is
// checked against the codec's limit before its body is allocated. Error
// offsets count from the start of the stream.
type FrameReader struct {
	c   *Codec
	r   io.Reader
	off int64
	hdr [HeaderLen]byte
}

// NewFrameReader returns a reader of frames from r.
func (c *Codec) NewFrameReader(r io.Reader) *FrameReader { return &FrameReader{c: c, r: r} }

// Next returns the next frame, io.EOF at a clean end of stream, or an
// *Error. After an error the stream position is undefined.
func (fr *FrameReader) Next() (Frame, error) {
	start := fr.off
	n, err := io.ReadFull(fr.r, fr.hdr[:])
	fr.off += int64(n)
	if err == io.EOF {
		return Frame{}, io.EOF
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Frame{}, errorf(ErrShortHeader, start, 0, "stream ends %d bytes into a frame header", n)
		}
		return Frame{}, err
	}
	t, size, herr := fr.c.ParseHeader(fr.hdr[:])
	if herr != nil {
		var we *Error
		if errors.As(herr, &we) {
			we.Offset += start
		}
		return Frame{}, herr
	}
	body := make([]byte, size)
	n, err = io.ReadFull(fr.r, body)
	fr.off += int64(n)
	if err != nil {
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return Frame{}, errorf(ErrTruncated, start+HeaderLen, t, "length field says %d body bytes, stream ends after %d", size, n)
		}
		return Frame{}, err
	}
	return Frame{Offset: start, Type: t, Body: body}, nil
}

// DecodeAll decodes every frame in b, in order. It stops at the first bad
// frame and returns the frames before it with an error whose offset counts
// from the start of b.
func (c *Codec) DecodeAll(b []byte) ([]Message, error) {
	var out []Message
	off := 0
	for off < len(b) {
		t, body, size, err := c.SplitFrame(b[off:])
		if err == nil {
			var m Message
			m, err = c.decodeBody(t, body, HeaderLen)
			if err == nil {
				out = append(out, m)
				off += size
				continue
			}
		}
		var we *Error
		if errors.As(err, &we) {
			we.Offset += int64(off)
		}
		return out, err
	}
	return out, nil
}
