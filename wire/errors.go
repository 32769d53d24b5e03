package wire

import "fmt"

// ErrorKind classifies a decode failure. Each kind is itself an error, so
// callers can test with errors.Is(err, wire.ErrTruncated).
type ErrorKind uint8

// The ways a frame can fail to decode.
const (
	ErrShortHeader ErrorKind = iota + 1 // fewer bytes than a frame header
	ErrUnknownType                      // type byte not in the protocol
	ErrTooLarge                         // length field over the codec's limit
	ErrTruncated                        // fewer body bytes than the length field says
	ErrBadBody                          // body does not decode as its type
	ErrTrailing                         // bytes left over after the frame or the body value
	ErrBadVersion                       // framed profiles: unsupported frame version byte
	ErrBadChecksum                      // framed profiles: frame CRC32C mismatch
	ErrEncode                           // a message that cannot be encoded (e.g. too large)
)

var kindText = [...]string{
	ErrShortHeader: "short header",
	ErrUnknownType: "unknown type byte",
	ErrTooLarge:    "length over the limit",
	ErrTruncated:   "truncated body",
	ErrBadBody:     "body does not decode",
	ErrTrailing:    "trailing bytes",
	ErrBadVersion:  "unsupported frame version",
	ErrBadChecksum: "frame checksum mismatch",
	ErrEncode:      "cannot encode",
}

func (k ErrorKind) Error() string {
	if int(k) < len(kindText) && kindText[k] != "" {
		return kindText[k]
	}
	return fmt.Sprintf("wire error %d", uint8(k))
}

// Error is every failure this package returns. Offset is the byte offset,
// from the start of the input handed to the decoder, where the problem is.
type Error struct {
	Kind   ErrorKind
	Offset int64
	Type   MsgType // the frame's type when known (0 otherwise)
	Detail string  // what exactly is wrong, naming the field for bodies
}

func (e *Error) Error() string {
	s := fmt.Sprintf("wire: %s at byte %d", e.Kind.Error(), e.Offset)
	if e.Type != 0 {
		s += " in " + e.Type.String() + " frame"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap exposes the kind so errors.Is(err, ErrTruncated) works.
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind ErrorKind, off int64, t MsgType, format string, args ...any) *Error {
	return &Error{Kind: kind, Offset: off, Type: t, Detail: fmt.Sprintf(format, args...)}
}
