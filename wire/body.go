package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// bodyWriter appends a zerompk-compatible body to buf. msgpack.Encoder does
// the MessagePack writing; this type picks the forms zerompk picks (which the
// encoder's defaults do not: it writes every uint64 in 9 bytes and positive
// signed integers in unsigned forms).
type bodyWriter struct {
	buf []byte
	enc *msgpack.Encoder
	p   *Profile
	// keys is scratch space for sorting map keys, pooled with the writer so
	// that encoding a map allocates nothing. It is used as a stack (see
	// pushSortedKeys) so that nested maps can share it.
	keys []string
}

// Write and WriteByte let the msgpack encoder append to buf directly.
func (w *bodyWriter) Write(b []byte) (int, error) { w.buf = append(w.buf, b...); return len(b), nil }
func (w *bodyWriter) WriteByte(c byte) error      { w.buf = append(w.buf, c); return nil }

var writerPool = sync.Pool{New: func() any {
	w := &bodyWriter{}
	w.enc = msgpack.NewEncoder(w)
	return w
}}

// The encoder appends to memory, so its error results are always nil; they
// are ignored below for that reason.

func (w *bodyWriter) array(n int)  { _ = w.enc.EncodeArrayLen(n) }
func (w *bodyWriter) mapLen(n int) { _ = w.enc.EncodeMapLen(n) }
func (w *bodyWriter) null()        { _ = w.enc.EncodeNil() }
func (w *bodyWriter) boolean(v bool) {
	_ = w.enc.EncodeBool(v)
}

// uint writes the smallest unsigned form: fixint, cc, cd, ce, cf.
func (w *bodyWriter) uint(v uint64) { _ = w.enc.EncodeUint(v) }

// int writes only signed forms: fixint (both signs), then d0..d3 by range;
// 200 is d1 00 c8 because zerompk's reader refuses cc-cf for an i64.
func (w *bodyWriter) int(v int64) {
	switch {
	case v >= -32 && v <= 127:
		_ = w.WriteByte(byte(v))
	case v >= math.MinInt8 && v <= math.MaxInt8:
		_ = w.enc.EncodeInt8(int8(v))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		_ = w.enc.EncodeInt16(int16(v))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		_ = w.enc.EncodeInt32(int32(v))
	default:
		_ = w.enc.EncodeInt64(v)
	}
}

func (w *bodyWriter) str(s string) { _ = w.enc.EncodeString(s) }

// bin writes bin8/16/32; an empty or nil slice is c4 00 (EncodeBytes would
// write nil for a nil slice).
func (w *bodyWriter) bin(b []byte) {
	_ = w.enc.EncodeBytesLen(len(b))
	w.buf = append(w.buf, b...)
}

func (w *bodyWriter) optInt(v *int64) {
	if v == nil {
		w.null()
		return
	}
	w.int(*v)
}

func (w *bodyWriter) optStr(v *string) {
	if v == nil {
		w.null()
		return
	}
	w.str(*v)
}

// variant writes an enum variant with fields as [name, [fields...]]; the
// caller writes the fields after this call.
func (w *bodyWriter) variant(name string, fields int) {
	w.array(2)
	w.str(name)
	w.array(fields)
}

// UnitVariant is the MessagePack value of an enum variant without fields
// under profile p, as p writes it inside a message: [name, nil] or the
// bare name (for a RawValue field, e.g. DeltaReject's compensation).
func UnitVariant(p Profile, name string) RawValue {
	w := writerPool.Get().(*bodyWriter)
	w.buf, w.p = w.buf[:0], &p
	w.unitVariant(name)
	out := RawValue(append([]byte(nil), w.buf...))
	w.p = nil
	writerPool.Put(w)
	return out
}

// unitVariant writes a variant without fields as the profile says.
func (w *bodyWriter) unitVariant(name string) {
	if w.p.UnitVariants == UnitBareString {
		w.str(name)
		return
	}
	w.array(2)
	w.str(name)
	w.null()
}

// strU64Map writes keys in sorted order: Rust writes map entries in no fixed
// order, and a deterministic simulator needs one.
func (w *bodyWriter) strU64Map(m map[string]uint64) {
	w.mapLen(len(m))
	keys, mark := pushSortedKeys(w, m)
	for _, k := range keys {
		w.str(k)
		w.uint(m[k])
	}
	w.popKeys(mark)
}

// pushSortedKeys appends m's keys to w.keys, sorts them, and returns them
// with the mark to pass to popKeys once they have been written. Nested
// pushes are fine: the returned slice stays valid even if a later push
// grows w.keys.
func pushSortedKeys[V any](w *bodyWriter, m map[string]V) ([]string, int) {
	mark := len(w.keys)
	for k := range m {
		w.keys = append(w.keys, k)
	}
	keys := w.keys[mark:]
	slices.Sort(keys)
	return keys, mark
}

// popKeys drops the keys pushed since mark (clearing them so the pooled
// writer does not keep the strings alive).
func (w *bodyWriter) popKeys(mark int) {
	clear(w.keys[mark:])
	w.keys = w.keys[:mark]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// bodyReader decodes a body strictly: every value must have exactly the form
// zerompk would accept for its field. Errors are sticky: after the first one
// every read returns a zero value, so message decoders read straight through
// and check r.err once.
type bodyReader struct {
	data   []byte
	pos    int
	base   int64 // offset of data within the caller's input, for errors
	t      MsgType
	p      *Profile
	err    *Error
	strs   map[string]string // interned short strings; see intern
	recent [recentSlots]string
	// alias makes bin and raw fields sub-slices of the input instead of
	// copies (views that must not outlive the input).
	alias bool
	// ints, when it has spare capacity, backs optional integers instead of
	// a fresh allocation each (a Scratch's reusable slots).
	ints []int64
}

var readerPool = sync.Pool{New: func() any {
	return &bodyReader{}
}}

func (r *bodyReader) fail(at int, field, format string, args ...any) {
	if r.err != nil {
		return
	}
	r.err = &Error{Kind: ErrBadBody, Offset: r.base + int64(at), Type: r.t,
		Detail: field + ": " + fmt.Sprintf(format, args...)}
}

// peek returns the next code, failing if the body has ended.
func (r *bodyReader) peek(field string) (byte, bool) {
	if r.err != nil {
		return 0, false
	}
	if r.pos >= len(r.data) {
		r.fail(r.pos, field, "body ends before this field")
		return 0, false
	}
	return r.data[r.pos], true
}

// need checks that n more bytes follow position at; used before any read
// whose length comes from the input, so nothing is allocated for a lie.
func (r *bodyReader) need(at, n int, field, what string) bool {
	if n < 0 || n > len(r.data)-at {
		r.fail(at, field, "%s needs %d more bytes but only %d remain", what, n, len(r.data)-at)
		return false
	}
	return true
}

func isUintCode(c byte) bool {
	return msgpcode.IsFixedNum(c) && c <= msgpcode.PosFixedNumHigh ||
		c == msgpcode.Uint8 || c == msgpcode.Uint16 || c == msgpcode.Uint32 || c == msgpcode.Uint64
}

func isIntCode(c byte) bool {
	return msgpcode.IsFixedNum(c) ||
		c == msgpcode.Int8 || c == msgpcode.Int16 || c == msgpcode.Int32 || c == msgpcode.Int64
}

// uint reads an unsigned integer in any unsigned form and checks it fits max.
func (r *bodyReader) uint(field string, max uint64) uint64 {
	c, ok := r.peek(field)
	if !ok {
		return 0
	}
	at := r.pos
	if !isUintCode(c) {
		r.fail(at, field, "want an unsigned integer, found %s", describeCode(c))
		return 0
	}
	v, ok := r.fixed(at, c, field)
	if !ok {
		return 0
	}
	if v > max {
		r.fail(at, field, "%d does not fit (max %d)", v, max)
		return 0
	}
	return v
}

func (r *bodyReader) u64(field string) uint64 { return r.uint(field, math.MaxUint64) }
func (r *bodyReader) u32(field string) uint32 { return uint32(r.uint(field, math.MaxUint32)) }
func (r *bodyReader) u16(field string) uint16 { return uint16(r.uint(field, math.MaxUint16)) }

// int reads an i64 in signed forms only, as zerompk does.
func (r *bodyReader) int(field string) int64 {
	c, ok := r.peek(field)
	if !ok {
		return 0
	}
	at := r.pos
	if !isIntCode(c) {
		r.fail(at, field, "want a signed integer, found %s", describeCode(c))
		return 0
	}
	v, ok := r.fixed(at, c, field)
	if !ok {
		return 0
	}
	if msgpcode.IsFixedNum(c) || c == msgpcode.Int8 || c == msgpcode.Int16 || c == msgpcode.Int32 {
		// Sign-extend the narrow signed forms; Int64 is already exact.
		switch {
		case msgpcode.IsFixedNum(c), c == msgpcode.Int8:
			return int64(int8(v))
		case c == msgpcode.Int16:
			return int64(int16(v))
		default:
			return int64(int32(v))
		}
	}
	return int64(v)
}

// fixed consumes the integer whose code c is at position at and returns its
// bits: the code itself for a fixnum, else the 1, 2, 4 or 8 big-endian
// bytes after it. The caller has checked that c is an integer code.
func (r *bodyReader) fixed(at int, c byte, field string) (uint64, bool) {
	if msgpcode.IsFixedNum(c) {
		r.pos++
		return uint64(c), true
	}
	width := 8
	switch c {
	case msgpcode.Uint8, msgpcode.Int8:
		width = 1
	case msgpcode.Uint16, msgpcode.Int16:
		width = 2
	case msgpcode.Uint32, msgpcode.Int32:
		width = 4
	}
	if width > len(r.data)-at-1 {
		// The text the msgpack decoder's error gave: trace hashes fold it,
		// and a seed must replay to the same hash across versions.
		r.fail(at, field, "body ends inside this value (end of body)")
		return 0, false
	}
	b := r.data[at+1 : at+1+width]
	r.pos = at + 1 + width
	switch width {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), true
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), true
	}
	return binary.BigEndian.Uint64(b), true
}

func (r *bodyReader) boolean(field string) bool {
	c, ok := r.peek(field)
	if !ok {
		return false
	}
	if c != msgpcode.True && c != msgpcode.False {
		r.fail(r.pos, field, "want a bool, found %s", describeCode(c))
		return false
	}
	r.pos++
	return c == msgpcode.True
}

// lenAfter decodes the length that follows a str/bin/array/map code whose
// length is 1, 2 or 4 bytes wide, without consuming anything.
func (r *bodyReader) lenAfter(at, width int, field string) (int, bool) {
	if !r.need(at+1, width, field, "length prefix") {
		return 0, false
	}
	b := r.data[at+1:]
	switch width {
	case 1:
		return int(b[0]), true
	case 2:
		return int(binary.BigEndian.Uint16(b)), true
	default:
		// Refuse a length beyond the whole body before converting it: on
		// 32-bit platforms int(v) would go negative and slip past the
		// callers' bounds checks.
		v := binary.BigEndian.Uint32(b)
		if uint64(v) > uint64(len(r.data)) {
			r.fail(at+1+width, field, "length %d is more than the %d bytes that remain", v, len(r.data)-at-1-width)
			return 0, false
		}
		return int(v), true
	}
}

// strOrBinLen returns the header size and payload length of a str (wantStr)
// or bin value at r.pos, failing on any other form.
func (r *bodyReader) strOrBinLen(field string, wantStr bool) (hdr, n int, ok bool) {
	c, ok := r.peek(field)
	if !ok {
		return 0, 0, false
	}
	at := r.pos
	width := 0
	switch {
	case wantStr && msgpcode.IsFixedString(c):
		return 1, int(c & msgpcode.FixedStrMask), r.need(at+1, int(c&msgpcode.FixedStrMask), field, "str")
	case wantStr && c == msgpcode.Str8, !wantStr && c == msgpcode.Bin8:
		width = 1
	case wantStr && c == msgpcode.Str16, !wantStr && c == msgpcode.Bin16:
		width = 2
	case wantStr && c == msgpcode.Str32, !wantStr && c == msgpcode.Bin32:
		width = 4
	default:
		want := "bin"
		if wantStr {
			want = "a string"
		}
		r.fail(at, field, "want %s, found %s", want, describeCode(c))
		return 0, 0, false
	}
	n, ok = r.lenAfter(at, width, field)
	if !ok || !r.need(at+1+width, n, field, "value") {
		return 0, 0, false
	}
	return 1 + width, n, true
}

// str reads a str value. strOrBinLen has already checked that all n bytes
// are present, so the bytes are taken straight from the body; short strings
// (ids, collection names, operations: the same few values frame after
// frame) are interned so that decoding them allocates nothing.
func (r *bodyReader) str(field string) string {
	// A fixstr wholly present (every id and name) is read here; anything
	// else, and every error, takes strOrBinLen's general path.
	hdr, n := 1, 0
	if at := r.pos; r.err == nil && at < len(r.data) && msgpcode.IsFixedString(r.data[at]) &&
		int(r.data[at]&msgpcode.FixedStrMask) < len(r.data)-at {
		n = int(r.data[at] & msgpcode.FixedStrMask)
	} else {
		var ok bool
		if hdr, n, ok = r.strOrBinLen(field, true); !ok {
			return ""
		}
	}
	at := r.pos
	b := r.data[at+hdr : at+hdr+n]
	if n == 0 {
		r.pos += hdr
		return ""
	}
	if n <= internMaxLen {
		// A string seen before was valid UTF-8 then and is the same bytes.
		var si int
		if s := at + hdr; n < 8 && s+8 <= len(r.data) { // most: other fields follow
			si = slotOf(shortWord(r.data[s:], n), n)
		} else {
			si = internSlot(b)
		}
		slot := &r.recent[si]
		if *slot == string(b) { // no allocation for the comparison
			r.pos += hdr + n
			return *slot
		}
		if !utf8.Valid(b) {
			r.fail(at, field, "string of %d bytes is not valid UTF-8", n)
			return ""
		}
		r.pos += hdr + n
		*slot = r.intern(b)
		return *slot
	}
	if !utf8.Valid(b) {
		r.fail(at, field, "string of %d bytes is not valid UTF-8", n)
		return ""
	}
	r.pos += hdr + n
	return string(b)
}

// Interning bounds: strings up to internMaxLen bytes, at most internMax
// entries per reader (then the table starts over). In front of the table,
// a small direct-mapped cache of recent strings answers the common case
// (the same few ids frame after frame) with one comparison.
const (
	internMaxLen = 64
	internMax    = 4096
	recentBits   = 8
	recentSlots  = 1 << recentBits
)

// internSlot is a recent-cache index for b: up to 8 bytes packed exactly
// into a word (the first and last 8 for longer strings), then a
// multiplicative hash; cheaper than hashing byte by byte.
func internSlot(b []byte) int {
	return slotOf(packed(b), len(b))
}

// shortWord is the first n < 8 bytes of b as packed packs them, read with
// one load and masked rather than byte by byte; b has at least 8 bytes.
func shortWord(b []byte, n int) uint64 { return binary.LittleEndian.Uint64(b) & (1<<(8*n) - 1) }

// packed is b's bytes as a word: exactly, up to 8 bytes; the first and
// last 8 folded together for a longer b.
func packed(b []byte) uint64 {
	if n := len(b); n >= 8 {
		return binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[n-8:]), 29)
	}
	var x uint64
	for i, c := range b {
		x |= uint64(c) << (8 * i)
	}
	return x
}

func slotOf(x uint64, n int) int {
	x ^= uint64(n) << 58
	return int((x * 0x9e3779b97f4a7c15) >> (64 - recentBits))
}

func (r *bodyReader) intern(b []byte) string {
	if s, ok := r.strs[string(b)]; ok { // no allocation for the lookup
		return s
	}
	if r.strs == nil || len(r.strs) >= internMax {
		r.strs = make(map[string]string, 256)
	}
	s := string(b)
	r.strs[s] = s
	return s
}

func (r *bodyReader) bin(field string) []byte {
	hdr, n, ok := r.strOrBinLen(field, false)
	if !ok {
		return nil
	}
	// strOrBinLen has checked that all n bytes are present.
	b := r.data[r.pos+hdr : r.pos+hdr+n : r.pos+hdr+n]
	r.pos += hdr + n
	if r.alias {
		return b
	}
	out := make([]byte, n) // make and copy: cheaper than append's growth path
	copy(out, b)
	return out
}

// isNil consumes a nil if one is next; it is how Options are read.
func (r *bodyReader) isNil() bool {
	if r.err == nil && r.pos < len(r.data) && r.data[r.pos] == msgpcode.Nil {
		r.pos++
		return true
	}
	return false
}

func (r *bodyReader) optInt(field string) *int64 {
	if r.isNil() {
		return nil
	}
	v := r.int(field)
	if len(r.ints) < cap(r.ints) {
		r.ints = append(r.ints, v)
		return &r.ints[len(r.ints)-1]
	}
	p := new(int64) // not &v: that would move v to the heap on both paths
	*p = v
	return p
}

func (r *bodyReader) optStr(field string) *string {
	if r.isNil() {
		return nil
	}
	v := r.str(field)
	return &v
}

// container describes one MessagePack container family for containerLen.
type container struct {
	what           string // "an array", "a map"
	isFix          func(byte) bool
	fixMask        byte
	code16, code32 byte // the 16- and 32-bit length forms
	perElem        int  // values per element: 1 for arrays, 2 for maps
}

var (
	arrayForm = container{"an array", msgpcode.IsFixedArray, msgpcode.FixedArrayMask, msgpcode.Array16, msgpcode.Array32, 1}
	mapForm   = container{"a map", msgpcode.IsFixedMap, msgpcode.FixedMapMask, msgpcode.Map16, msgpcode.Map32, 2}
)

// containerLen reads an array or map header of any form and returns its
// element count. Every value takes at least one byte, so a count beyond
// what remains is a lie, refused before anything is sized from it.
func (r *bodyReader) containerLen(field string, k container) (int, bool) {
	c, ok := r.peek(field)
	if !ok {
		return 0, false
	}
	at := r.pos
	var n, hdr int
	switch {
	case k.isFix(c):
		n, hdr = int(c&k.fixMask), 1
	case c == k.code16:
		n, ok = r.lenAfter(at, 2, field)
		hdr = 3
	case c == k.code32:
		n, ok = r.lenAfter(at, 4, field)
		hdr = 5
	default:
		r.fail(at, field, "want %s, found %s", k.what, describeCode(c))
		return 0, false
	}
	if !ok || n > (len(r.data)-at-hdr)/k.perElem {
		if ok {
			r.need(at+hdr, k.perElem*n, field, k.what[strings.IndexByte(k.what, ' ')+1:])
		}
		return 0, false
	}
	r.pos += hdr
	return n, true
}

// arrayLen reads an array header of any form and returns its length.
func (r *bodyReader) arrayLen(field string) (int, bool) { return r.containerLen(field, arrayForm) }

// mapLen reads a map header of any form and returns its number of entries.
func (r *bodyReader) mapLen(field string) (int, bool) { return r.containerLen(field, mapForm) }

// array reads a struct header: an array of exactly want elements.
func (r *bodyReader) array(field string, want int) bool {
	at := r.pos
	n, ok := r.arrayLen(field)
	if !ok {
		return false
	}
	if n != want {
		r.fail(at, field, "want an array of %d fields, found %d elements", want, n)
		return false
	}
	return true
}

func (r *bodyReader) strU64Map(field string) map[string]uint64 {
	n, ok := r.mapLen(field)
	if !ok {
		return nil
	}
	m := make(map[string]uint64, n)
	for i := 0; i < n && r.err == nil; i++ {
		k := r.str(field + " key")
		m[k] = r.u64(field + "[" + k + "]")
	}
	return m
}

func (r *bodyReader) strList(field string) []string {
	n, ok := r.arrayLen(field)
	if !ok {
		return nil
	}
	out := make([]string, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		out = append(out, r.str(fmt.Sprintf("%s[%d]", field, i)))
	}
	return out
}

// variant reads an enum header and returns the variant name and whether it
// carries a payload array (its length is checked by the caller via array).
// A unit variant has hasFields=false and its nil (or, in bare-string
// profiles, nothing) already consumed.
func (r *bodyReader) variant(field string) (name string, hasFields bool, ok bool) {
	c, ok := r.peek(field)
	if !ok {
		return "", false, false
	}
	if r.p.UnitVariants == UnitBareString && isStrCode(c) {
		return r.str(field), false, r.err == nil
	}
	if !r.array(field, 2) {
		return "", false, false
	}
	name = r.str(field + " variant name")
	if r.err != nil {
		return "", false, false
	}
	if r.isNil() {
		if r.p.UnitVariants == UnitBareString {
			r.fail(r.pos-1, field, "variant %s written as [name, nil], which profile %s does not read", name, r.p.Name)
			return "", false, false
		}
		return name, false, true
	}
	return name, true, true
}

func isStrCode(c byte) bool {
	return msgpcode.IsFixedString(c) || c == msgpcode.Str8 || c == msgpcode.Str16 || c == msgpcode.Str32
}

// raw reads one complete MessagePack value of any shape and returns its
// bytes (a copy unless aliasing).
func (r *bodyReader) raw(field string) RawValue {
	if _, ok := r.peek(field); !ok {
		return nil
	}
	end, at, err := skipValue(r.data, r.pos)
	if err != "" {
		r.fail(at, field, "%s", err)
		return nil
	}
	v := RawValue(r.data[r.pos:end:end])
	r.pos = end
	if r.alias {
		return v
	}
	return slices.Clone(v)
}

// maxDepth bounds the nesting of opaque values; deeper input is refused so
// that nothing downstream can recurse without bound.
const maxDepth = 64

// skipValue returns the end of the MessagePack value starting at off. It is
// iterative with an explicit, bounded stack: hostile nesting cannot exhaust
// the goroutine stack.
func skipValue(data []byte, off int) (end, at int, problem string) {
	var stack [maxDepth + 1]int // remaining elements per open container
	depth := 0
	stack[0] = 1
	pos := off
	for depth >= 0 {
		if stack[depth] == 0 {
			depth--
			continue
		}
		stack[depth]--
		if pos >= len(data) {
			return 0, pos, "value ends early"
		}
		at = pos // the element's code: where every problem below is
		c := data[pos]
		pos++
		size, children := 0, 0
		width := 0
		switch {
		case c <= msgpcode.PosFixedNumHigh, c >= msgpcode.NegFixedNumLow,
			c == msgpcode.Nil, c == msgpcode.True, c == msgpcode.False:
		case msgpcode.IsFixedString(c):
			size = int(c & msgpcode.FixedStrMask)
		case msgpcode.IsFixedArray(c):
			children = int(c & msgpcode.FixedArrayMask)
		case msgpcode.IsFixedMap(c):
			children = 2 * int(c&msgpcode.FixedMapMask)
		case c == msgpcode.Uint8, c == msgpcode.Int8:
			size = 1
		case c == msgpcode.Uint16, c == msgpcode.Int16:
			size = 2
		case c == msgpcode.Uint32, c == msgpcode.Int32, c == msgpcode.Float:
			size = 4
		case c == msgpcode.Uint64, c == msgpcode.Int64, c == msgpcode.Double:
			size = 8
		case c == msgpcode.FixExt1:
			size = 2
		case c == msgpcode.FixExt2:
			size = 3
		case c == msgpcode.FixExt4:
			size = 5
		case c == msgpcode.FixExt8:
			size = 9
		case c == msgpcode.FixExt16:
			size = 17
		case c == msgpcode.Str8, c == msgpcode.Bin8, c == msgpcode.Ext8:
			width = 1
		case c == msgpcode.Str16, c == msgpcode.Bin16, c == msgpcode.Ext16, c == msgpcode.Array16, c == msgpcode.Map16:
			width = 2
		case c == msgpcode.Str32, c == msgpcode.Bin32, c == msgpcode.Ext32, c == msgpcode.Array32, c == msgpcode.Map32:
			width = 4
		default:
			return 0, at, fmt.Sprintf("invalid MessagePack code 0x%02x", c)
		}
		if width > 0 {
			if len(data)-pos < width {
				return 0, at, "length prefix ends early"
			}
			var n int
			switch width {
			case 1:
				n = int(data[pos])
			case 2:
				n = int(binary.BigEndian.Uint16(data[pos:]))
			default:
				// Checked before the conversion to int, which goes
				// negative on 32-bit platforms for lengths >= 2^31.
				v := binary.BigEndian.Uint32(data[pos:])
				if uint64(v) > uint64(len(data)) {
					return 0, at, fmt.Sprintf("length %d is more than the %d bytes that remain", v, len(data)-pos-width)
				}
				n = int(v)
			}
			pos += width
			switch c {
			case msgpcode.Array16, msgpcode.Array32:
				children = n
			case msgpcode.Map16, msgpcode.Map32:
				children = 2 * n
			case msgpcode.Ext8, msgpcode.Ext16, msgpcode.Ext32:
				size = n + 1
			default:
				size = n
			}
		}
		if size > len(data)-pos {
			return 0, at, fmt.Sprintf("value declares %d bytes but only %d remain", size, len(data)-pos)
		}
		pos += size
		if children > 0 {
			if children > len(data)-pos {
				return 0, at, fmt.Sprintf("container declares %d elements but only %d bytes remain", children, len(data)-pos)
			}
			if depth == maxDepth {
				return 0, at, fmt.Sprintf("nesting deeper than %d", maxDepth)
			}
			depth++
			stack[depth] = children
		}
	}
	return pos, 0, ""
}

// describeCode names a MessagePack code for error messages.
func describeCode(c byte) string {
	var s string
	switch {
	case c <= msgpcode.PosFixedNumHigh:
		s = "positive fixint"
	case c >= msgpcode.NegFixedNumLow:
		s = "negative fixint"
	case msgpcode.IsFixedMap(c):
		s = "fixmap"
	case msgpcode.IsFixedArray(c):
		s = "fixarray"
	case msgpcode.IsFixedString(c):
		s = "fixstr"
	default:
		names := map[byte]string{
			0xc0: "nil", 0xc1: "never-used code", 0xc2: "false", 0xc3: "true",
			0xc4: "bin8", 0xc5: "bin16", 0xc6: "bin32", 0xc7: "ext8", 0xc8: "ext16", 0xc9: "ext32",
			0xca: "float32", 0xcb: "float64", 0xcc: "uint8", 0xcd: "uint16", 0xce: "uint32", 0xcf: "uint64",
			0xd0: "int8", 0xd1: "int16", 0xd2: "int32", 0xd3: "int64",
			0xd4: "fixext1", 0xd5: "fixext2", 0xd6: "fixext4", 0xd7: "fixext8", 0xd8: "fixext16",
			0xd9: "str8", 0xda: "str16", 0xdb: "str32", 0xdc: "array16", 0xdd: "array32", 0xde: "map16", 0xdf: "map32",
		}
		s = names[c]
	}
	return fmt.Sprintf("%s (0x%02x)", s, c)
}
