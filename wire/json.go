package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/syncsim/syncsim/internal/jsonpos"
	"github.com/vmihailenco/msgpack/v5"
)

// The JSON form is serde's: Rust field names, externally tagged enums
// ({"SequenceGap":{"expected":2,"received":5}}, "CorruptedState"), byte
// fields as arrays of numbers, null for an absent Option.

// MarshalJSON writes the bytes as an array of numbers, as serde does.
func (b Bytes) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, 2+4*len(b))
	out = append(out, '[')
	for i, c := range b {
		if i > 0 {
			out = append(out, ',')
		}
		out = fmt.Appendf(out, "%d", c)
	}
	return append(out, ']'), nil
}

// UnmarshalJSON reads an array of numbers 0-255.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	var nums []json.Number
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&nums); err != nil {
		return fmt.Errorf("want an array of byte values 0-255: %w", err)
	}
	out := make(Bytes, len(nums))
	for i, n := range nums {
		v, err := n.Int64()
		if err != nil || v < 0 || v > 255 {
			return fmt.Errorf("element %d is %s, not a byte value 0-255", i, n)
		}
		out[i] = byte(v)
	}
	*b = out
	return nil
}

// MarshalJSON writes the value as JSON (bin values as arrays of numbers).
func (v RawValue) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	x, err := msgpack.NewDecoder(bytes.NewReader(v)).DecodeInterface()
	if err != nil {
		return json.Marshal(map[string]string{"msgpack_hex": hex.EncodeToString(v)})
	}
	return json.Marshal(jsonable(x))
}

func jsonable(x any) any {
	switch v := x.(type) {
	case []byte:
		out := make([]int, len(v))
		for i, c := range v {
			out[i] = int(c)
		}
		return out
	case []any:
		for i := range v {
			v[i] = jsonable(v[i])
		}
		return v
	case map[string]any:
		for k := range v {
			v[k] = jsonable(v[k])
		}
		return v
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[fmt.Sprint(k)] = jsonable(e)
		}
		return out
	}
	return x
}

// UnmarshalJSON converts any JSON value to MessagePack with the codec's
// integer rules (non-negative integers unsigned, negative ones signed).
func (v *RawValue) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return err
	}
	if x == nil {
		*v = nil
		return nil
	}
	w := &bodyWriter{p: &Zerompk04}
	w.enc = msgpack.NewEncoder(w)
	if err := writeGeneric(w, x); err != nil {
		return err
	}
	*v = RawValue(w.buf)
	return nil
}

func writeGeneric(w *bodyWriter, x any) error {
	switch v := x.(type) {
	case nil:
		w.null()
	case bool:
		w.boolean(v)
	case string:
		w.str(v)
	case json.Number:
		if i, err := v.Int64(); err == nil {
			if i >= 0 {
				w.uint(uint64(i))
			} else {
				w.int(i)
			}
		} else if u, err := strconv.ParseUint(string(v), 10, 64); err == nil {
			w.uint(u)
		} else if f, err := v.Float64(); err == nil && !math.IsInf(f, 0) {
			_ = w.enc.EncodeFloat64(f)
		} else {
			return fmt.Errorf("number %s is out of range", v)
		}
	case []any:
		w.array(len(v))
		for _, e := range v {
			if err := writeGeneric(w, e); err != nil {
				return err
			}
		}
	case map[string]any:
		w.mapLen(len(v))
		for _, k := range sortedKeys(v) {
			w.str(k)
			if err := writeGeneric(w, v[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// MarshalJSON writes the externally tagged enum.
func (m ResyncReason) MarshalJSON() ([]byte, error) {
	switch m.Kind {
	case SequenceGap:
		return fmt.Appendf(nil, `{"SequenceGap":{"expected":%d,"received":%d}}`, m.Expected, m.Received), nil
	case ChecksumMismatch:
		return fmt.Appendf(nil, `{"ChecksumMismatch":{"mutation_id":%d}}`, m.MutationID), nil
	case CorruptedState:
		return []byte(`"CorruptedState"`), nil
	}
	return nil, fmt.Errorf("ResyncReason: invalid kind %d", m.Kind)
}

// UnmarshalJSON reads the externally tagged enum strictly.
func (m *ResyncReason) UnmarshalJSON(data []byte) error {
	name, payload, err := externalTag(data)
	if err != nil {
		return err
	}
	*m = ResyncReason{}
	switch name {
	case "CorruptedState":
		if payload != nil {
			return fmt.Errorf("variant CorruptedState has no fields")
		}
		m.Kind = CorruptedState
		return nil
	case "SequenceGap":
		var f struct {
			Expected uint64 `json:"expected"`
			Received uint64 `json:"received"`
		}
		m.Kind = SequenceGap
		err = strictUnmarshal(payload, &f, "SequenceGap")
		m.Expected, m.Received = f.Expected, f.Received
	case "ChecksumMismatch":
		var f struct {
			MutationID uint64 `json:"mutation_id"`
		}
		m.Kind = ChecksumMismatch
		err = strictUnmarshal(payload, &f, "ChecksumMismatch")
		m.MutationID = f.MutationID
	default:
		return fmt.Errorf("unknown variant %q (want SequenceGap, ChecksumMismatch or CorruptedState)", name)
	}
	return err
}

// MarshalJSON writes {"Document":{"collection":...}}.
func (s ShapeType) MarshalJSON() ([]byte, error) {
	c, err := json.Marshal(s.Collection)
	return fmt.Appendf(nil, `{"Document":{"collection":%s}}`, c), err
}

// UnmarshalJSON reads {"Document":{"collection":...}}.
func (s *ShapeType) UnmarshalJSON(data []byte) error {
	name, payload, err := externalTag(data)
	if err != nil {
		return err
	}
	if name != "Document" || payload == nil {
		return fmt.Errorf("unknown shape type %q (want {\"Document\":{\"collection\":...}})", name)
	}
	var f struct {
		Collection string `json:"collection"`
	}
	err = strictUnmarshal(payload, &f, "Document")
	s.Collection = f.Collection
	return err
}

// externalTag splits serde's externally tagged form: "Name" gives a nil
// payload; {"Name": payload} gives the payload.
func externalTag(data []byte) (string, json.RawMessage, error) {
	var name string
	if err := json.Unmarshal(data, &name); err == nil {
		return name, nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || len(obj) != 1 {
		return "", nil, fmt.Errorf(`want an enum as "Variant" or {"Variant":{...}}, got %s`, abbreviate(data))
	}
	for k, v := range obj {
		return k, v, nil
	}
	panic("unreachable")
}

func abbreviate(b []byte) string {
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}

// strictUnmarshal decodes a JSON object into the struct pointed to by dst,
// refusing unknown fields and missing required ones (every field whose Go
// type is not a pointer or RawValue), as serde does for a Rust struct.
func strictUnmarshal(data []byte, dst any, what string) error {
	if err := checkFields(data, reflect.TypeOf(dst).Elem(), what); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		_, msg := jsonpos.Describe(err, what)
		return fmt.Errorf("%s: %s", what, msg)
	}
	if dec.More() {
		return fmt.Errorf("%s: trailing data after the JSON object", what)
	}
	return nil
}

var rawValueType = reflect.TypeOf(RawValue(nil))

func checkFields(data []byte, t reflect.Type, path string) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return fmt.Errorf("%s: want a JSON object, got %s", path, abbreviate(bytes.TrimSpace(data)))
	}
	var known []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		known = append(known, name)
		raw, present := obj[name]
		optional := f.Type.Kind() == reflect.Pointer || f.Type == rawValueType
		if !present {
			if !optional {
				return fmt.Errorf("%s: missing field %q", path, name)
			}
			continue
		}
		if !optional && string(bytes.TrimSpace(raw)) == "null" {
			return fmt.Errorf("%s: field %q is null but is not an Option", path, name)
		}
		_, custom := reflect.New(f.Type).Interface().(json.Unmarshaler)
		if f.Type.Kind() == reflect.Struct && !custom {
			if err := checkFields(raw, f.Type, path+"."+name); err != nil {
				return err
			}
		}
	}
	for _, k := range sortedKeys(obj) {
		if !slices.Contains(known, k) {
			return fmt.Errorf("%s: unknown field %q (fields: %s)", path, k, strings.Join(known, ", "))
		}
	}
	return nil
}

// MessageFromJSON builds a message of type t from its JSON form. For known
// types the harness does not model, the JSON value is the body itself.
func MessageFromJSON(t MsgType, data []byte) (Message, error) {
	m := newMessage(t)
	if m == nil {
		return nil, fmt.Errorf("type byte 0x%02x is not a NodeDB sync message", byte(t))
	}
	if o, ok := m.(*Opaque); ok {
		if err := o.Body.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		if o.Body == nil {
			o.Body = RawValue{0xc0}
		}
		return o, nil
	}
	if err := strictUnmarshal(data, m, t.String()); err != nil {
		return nil, err
	}
	return m, nil
}

// MessageToJSON renders a message's body in its JSON form, which
// MessageFromJSON reads back. A nil list or map is written as [] or {} (the
// wire does not tell nil from empty, and serde refuses null for either).
func MessageToJSON(m Message) ([]byte, error) {
	if o, ok := m.(*Opaque); ok {
		return o.Body.MarshalJSON()
	}
	v := reflect.ValueOf(m).Elem()
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	emptyNils(c)
	return json.Marshal(c.Addr().Interface())
}

// emptyNils replaces the nil lists of strings and the nil maps in the
// struct v (a settable copy) and its nested structs with empty ones.
func emptyNils(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Struct:
			emptyNils(f)
		case f.Kind() == reflect.Slice && f.IsNil() && f.Type().Elem().Kind() == reflect.String:
			f.Set(reflect.MakeSlice(f.Type(), 0, 0))
		case f.Kind() == reflect.Map && f.IsNil():
			f.Set(reflect.MakeMap(f.Type()))
		}
	}
}
