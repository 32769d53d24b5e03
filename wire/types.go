package wire

import (
	"fmt"
	"strconv"
	"strings"
)

// MsgType is the frame's type byte.
type MsgType byte

// The type bytes of every message in NodeDB's sync protocol.
const (
	TypeHandshake         MsgType = 0x01
	TypeHandshakeAck      MsgType = 0x02
	TypeDeltaPush         MsgType = 0x10
	TypeDeltaAck          MsgType = 0x11
	TypeDeltaReject       MsgType = 0x12
	TypeCollectionPurged  MsgType = 0x14
	TypeShapeSubscribe    MsgType = 0x20
	TypeShapeSnapshot     MsgType = 0x21
	TypeShapeDelta        MsgType = 0x22
	TypeShapeUnsubscribe  MsgType = 0x23
	TypeVectorClockSync   MsgType = 0x30
	TypeTimeseriesPush    MsgType = 0x40
	TypeTimeseriesAck     MsgType = 0x41
	TypeResyncRequest     MsgType = 0x50
	TypeThrottle          MsgType = 0x52
	TypeTokenRefresh      MsgType = 0x60
	TypeTokenRefreshAck   MsgType = 0x61
	TypeDefinitionSync    MsgType = 0x70
	TypePresenceUpdate    MsgType = 0x80
	TypePresenceBroadcast MsgType = 0x81
	TypePresenceLeave     MsgType = 0x82
	TypeArrayCRDTFirst    MsgType = 0x90
	TypeArrayCRDTLast     MsgType = 0x97
	TypePingPong          MsgType = 0xFF
)

// typeInfo describes one known type byte. Indexed by the byte itself so that
// lookup on the per-frame hot path is one array read.
type typeInfo struct {
	name     string
	modelled bool // has a Go message type; otherwise carried as Opaque
}

var typeTable = func() (t [256]typeInfo) {
	set := func(b MsgType, name string, modelled bool) { t[b] = typeInfo{name, modelled} }
	set(TypeHandshake, "Handshake", true)
	set(TypeHandshakeAck, "HandshakeAck", true)
	set(TypeDeltaPush, "DeltaPush", true)
	set(TypeDeltaAck, "DeltaAck", true)
	set(TypeDeltaReject, "DeltaReject", true)
	set(TypeCollectionPurged, "CollectionPurged", false)
	set(TypeShapeSubscribe, "ShapeSubscribe", true)
	set(TypeShapeSnapshot, "ShapeSnapshot", true)
	set(TypeShapeDelta, "ShapeDelta", true)
	set(TypeShapeUnsubscribe, "ShapeUnsubscribe", false)
	set(TypeVectorClockSync, "VectorClockSync", true)
	set(TypeTimeseriesPush, "TimeseriesPush", false)
	set(TypeTimeseriesAck, "TimeseriesAck", false)
	set(TypeResyncRequest, "ResyncRequest", true)
	set(TypeThrottle, "Throttle", true)
	set(TypeTokenRefresh, "TokenRefresh", false)
	set(TypeTokenRefreshAck, "TokenRefreshAck", false)
	set(TypeDefinitionSync, "DefinitionSync", false)
	set(TypePresenceUpdate, "PresenceUpdate", false)
	set(TypePresenceBroadcast, "PresenceBroadcast", false)
	set(TypePresenceLeave, "PresenceLeave", false)
	for b := TypeArrayCRDTFirst; b <= TypeArrayCRDTLast; b++ {
		set(b, fmt.Sprintf("ArrayCRDT%X", byte(b)), false)
	}
	set(TypePingPong, "PingPong", true)
	return t
}()

// Known reports whether t is a type byte of the protocol.
func (t MsgType) Known() bool { return typeTable[t].name != "" }

// Modelled reports whether t has a Go message type in this package; known
// types that are not modelled decode to *Opaque.
func (t MsgType) Modelled() bool { return typeTable[t].modelled }

// String returns the message name, or "0xNN" for an unknown byte.
func (t MsgType) String() string {
	if n := typeTable[t].name; n != "" {
		return n
	}
	return fmt.Sprintf("0x%02x", byte(t))
}

// KnownTypes lists every known type byte in ascending order.
func KnownTypes() []MsgType {
	var out []MsgType
	for b := 0; b < 256; b++ {
		if MsgType(b).Known() {
			out = append(out, MsgType(b))
		}
	}
	return out
}

// ParseMsgType accepts a message name (case-insensitive, e.g. "ResyncRequest")
// or a type byte written as 0xNN or a decimal number.
func ParseMsgType(s string) (MsgType, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty message type")
	}
	if c := s[0]; c >= '0' && c <= '9' {
		v, err := strconv.ParseUint(s, 0, 8)
		if err != nil {
			return 0, fmt.Errorf("message type %q is not a byte (0x00-0xff)", s)
		}
		t := MsgType(v)
		if !t.Known() {
			return 0, fmt.Errorf("message type 0x%02x is not a NodeDB sync type", v)
		}
		return t, nil
	}
	for b := 0; b < 256; b++ {
		if n := typeTable[b].name; n != "" && strings.EqualFold(n, s) {
			return MsgType(b), nil
		}
	}
	return 0, fmt.Errorf("unknown message type %q (want a name such as ResyncRequest, or a byte such as 0x50)", s)
}
