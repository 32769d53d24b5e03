package model

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestKeys(t *testing.T) {
	if got := ShapeID("c0"); got != "shape:c0" {
		t.Errorf("ShapeID(c0) = %q", got)
	}
	if got := DigestKey("c0"); got != "#digest:c0" {
		t.Errorf("DigestKey(c0) = %q", got)
	}
}

// Put is last-writer-wins: the later Put of a document replaces the
// earlier one; a nil or empty value deletes; deleting what is absent is a
// no-op.
func TestPutLastWriterWinsAndDelete(t *testing.T) {
	type op struct {
		id string
		v  []byte
	}
	tests := []struct {
		name string
		ops  []op
		want map[string]string
	}{
		{"empty", nil, map[string]string{}},
		{"one insert", []op{{"a", []byte("1")}}, map[string]string{"a": "1"}},
		{"overwrite keeps the last", []op{{"a", []byte("1")}, {"a", []byte("2")}, {"a", []byte("3")}}, map[string]string{"a": "3"}},
		{"nil deletes", []op{{"a", []byte("1")}, {"b", []byte("x")}, {"a", nil}}, map[string]string{"b": "x"}},
		{"empty value deletes", []op{{"a", []byte("1")}, {"a", []byte{}}}, map[string]string{}},
		{"delete absent is a no-op", []op{{"z", nil}, {"a", []byte("1")}, {"z", []byte{}}}, map[string]string{"a": "1"}},
		{"re-insert after delete", []op{{"a", []byte("1")}, {"a", nil}, {"a", []byte("2")}}, map[string]string{"a": "2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollection("c")
			for _, o := range tc.ops {
				c.Put(o.id, o.v)
			}
			if c.Len() != len(tc.want) {
				t.Fatalf("Len = %d, want %d", c.Len(), len(tc.want))
			}
			for id, v := range tc.want {
				got, ok := c.Get(id)
				if !ok || string(got) != v {
					t.Errorf("Get(%q) = %q, %v; want %q", id, got, ok, v)
				}
			}
			for _, o := range tc.ops {
				if _, keep := tc.want[o.id]; !keep {
					if got, ok := c.Get(o.id); ok {
						t.Errorf("Get(%q) = %q, want absent", o.id, got)
					}
				}
			}
			// The digest is a function of the final contents only.
			if want := build(tc.want).Digest(); c.Digest() != want {
				t.Errorf("digest %x, want %x (same contents built directly)", c.Digest(), want)
			}
		})
	}
}

func build(m map[string]string) *Collection {
	c := NewCollection("c")
	for _, id := range slices.Sorted(maps.Keys(m)) {
		c.Put(id, []byte(m[id]))
	}
	return c
}

func TestDigestBasics(t *testing.T) {
	if d := NewCollection("c").Digest(); d != 0 {
		t.Fatalf("empty digest = %x, want 0", d)
	}
	a := build(map[string]string{"x": "1"})
	// The value and the id both matter, and moving bytes between id and
	// value is a different document.
	for _, other := range []map[string]string{{"x": "2"}, {"y": "1"}, {"x1": "1"}, {"x": "11"}} {
		if b := build(other); b.Digest() == a.Digest() {
			t.Errorf("digest of %v equals digest of {x:1}", other)
		}
	}
	// A put then a delete returns the digest to where it was.
	before := a.Digest()
	a.Put("y", []byte("2"))
	a.Put("y", nil)
	if a.Digest() != before {
		t.Errorf("put+delete changed the digest: %x -> %x", before, a.Digest())
	}
	// The digest does not depend on the collection's name.
	n := NewCollection("other")
	n.Put("x", []byte("1"))
	if n.Digest() != before {
		t.Errorf("digest depends on the collection name")
	}
}

// The digest, the snapshot bytes and the contents depend only on the final
// state, never on the order the writes happened in.
func TestDigestIndependentOfOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ids := rapid.SampledFrom([]string{"a", "b", "c", "d", "doc-1", "doc-22", ""})
		type op struct {
			id string
			v  []byte
		}
		ops := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) op {
			return op{ids.Draw(t, "id"), rapid.SliceOfN(rapid.Byte(), 0, 6).Draw(t, "v")}
		}), 0, 40).Draw(t, "ops")

		c := NewCollection("c")
		final := map[string][]byte{}
		for _, o := range ops {
			c.Put(o.id, o.v)
			if len(o.v) == 0 {
				delete(final, o.id)
			} else {
				final[o.id] = o.v
			}
		}
		// Rebuild the final contents in a random order, with random
		// detours (a document written with junk first, then fixed).
		order := rapid.Permutation(slices.Sorted(maps.Keys(final))).Draw(t, "order")
		d := NewCollection("c")
		for _, id := range order {
			if rapid.Bool().Draw(t, "detour") {
				d.Put(id, []byte("junk"))
			}
			d.Put(id, final[id])
		}
		if c.Digest() != d.Digest() {
			t.Fatalf("digest %x after %v, %x after rebuilding %v in order %v", c.Digest(), ops, d.Digest(), final, order)
		}
		if !bytes.Equal(c.Snapshot(), d.Snapshot()) {
			t.Fatalf("snapshots differ for the same contents")
		}
		if c.Len() != len(final) {
			t.Fatalf("Len %d, want %d", c.Len(), len(final))
		}
	})
}

// The snapshot format is documented: documents sorted by id, each as
// uvarint(len id) id uvarint(len value) value.
func TestSnapshotEncoding(t *testing.T) {
	c := NewCollection("c")
	c.Put("b", []byte("2"))
	c.Put("a", []byte("xy"))
	c.Put("gone", []byte("q"))
	c.Put("gone", nil)
	want := []byte{1, 'a', 2, 'x', 'y', 1, 'b', 1, '2'}
	if got := c.Snapshot(); !bytes.Equal(got, want) {
		t.Fatalf("snapshot % x, want % x", got, want)
	}
	if got := NewCollection("e").Snapshot(); len(got) != 0 {
		t.Fatalf("empty snapshot % x, want no bytes", got)
	}
	// A length of 200 needs a two-byte uvarint: c8 01.
	big := NewCollection("c")
	v := bytes.Repeat([]byte{7}, 200)
	big.Put("k", v)
	want = append([]byte{1, 'k', 0xc8, 0x01}, v...)
	if got := big.Snapshot(); !bytes.Equal(got, want) {
		t.Fatalf("snapshot of a 200-byte value starts % x, want % x", got[:4], want[:4])
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		docs := rapid.MapOfN(rapid.StringN(0, 12, -1), rapid.SliceOfN(rapid.Byte(), 1, 300), 0, 30).Draw(t, "docs")
		c := NewCollection("c")
		for id, v := range docs {
			c.Put(id, v)
		}
		snap := c.Snapshot()
		got, err := LoadSnapshot("c", snap, uint64(len(docs)))
		if err != nil {
			t.Fatalf("LoadSnapshot: %v", err)
		}
		if got.Name != "c" || got.Len() != len(docs) || got.Digest() != c.Digest() {
			t.Fatalf("loaded %q with %d docs digest %x, want c, %d, %x", got.Name, got.Len(), got.Digest(), len(docs), c.Digest())
		}
		for id, v := range docs {
			if g, ok := got.Get(id); !ok || !bytes.Equal(g, v) {
				t.Fatalf("doc %q = %x, %v; want %x", id, g, ok, v)
			}
		}
		if !bytes.Equal(got.Snapshot(), snap) {
			t.Fatalf("re-encoding the loaded snapshot gives other bytes")
		}
	})
}

func TestLoadSnapshotErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want uint64
		err  string // substring of the error
	}{
		{"count says more", []byte{1, 'a', 1, 'x'}, 2, "holds 1 documents, header says 2"},
		{"count says fewer", []byte{1, 'a', 1, 'x', 1, 'b', 1, 'y'}, 1, "holds 2 documents, header says 1"},
		{"empty data, count 1", nil, 1, "holds 0 documents, header says 1"},
		{"duplicate id counts once", []byte{1, 'a', 1, 'x', 1, 'a', 1, 'y'}, 2, "holds 1 documents"},
		{"id length past the end", []byte{5, 'a', 'b'}, 1, "document id at byte 0"},
		{"truncated uvarint", []byte{0x80}, 1, "document id at byte 0"},
		{"id without value", []byte{1, 'a'}, 1, `value of "a" at byte 2`},
		{"value length past the end", []byte{1, 'a', 3, 'x'}, 1, `value of "a" at byte 2`},
		{"empty value", []byte{1, 'a', 0}, 1, `value of "a" at byte 2: bad or empty`},
		{"second document broken", []byte{1, 'a', 1, 'x', 2, 'b'}, 2, "document id at byte 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadSnapshot("coll", tc.data, tc.want)
			if err == nil {
				t.Fatalf("no error; loaded %d docs", c.Len())
			}
			if c != nil {
				t.Errorf("a collection came back with the error")
			}
			if !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "coll") {
				t.Errorf("error %q, want it to name the collection and contain %q", err, tc.err)
			}
		})
	}
	// The valid neighbours of the cases above load.
	for _, ok := range []struct {
		data []byte
		want uint64
	}{{nil, 0}, {[]byte{1, 'a', 1, 'x'}, 1}, {[]byte{0, 1, 'x'}, 1}} {
		if _, err := LoadSnapshot("coll", ok.data, ok.want); err != nil {
			t.Errorf("LoadSnapshot(% x, %d): %v", ok.data, ok.want, err)
		}
	}
}

// LoadSnapshot never panics on arbitrary bytes, and whatever it accepts
// re-encodes to a snapshot it accepts again with the same digest.
func TestLoadSnapshotArbitraryBytes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		data := rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, "data")
		want := rapid.Uint64Range(0, 4).Draw(t, "want")
		c, err := LoadSnapshot("c", data, want)
		if err != nil {
			return
		}
		again, err := LoadSnapshot("c", c.Snapshot(), uint64(c.Len()))
		if err != nil || again.Digest() != c.Digest() {
			t.Fatalf("accepted % x but not its re-encoding: %v", data, err)
		}
	})
}

func TestDeltaEncoding(t *testing.T) {
	tests := []struct {
		value []byte
		want  []byte
	}{
		{[]byte("v1"), []byte{1, 'v', '1'}},
		{[]byte{0}, []byte{1, 0}},
		{nil, []byte{2}},
		{[]byte{}, []byte{2}},
	}
	for _, tc := range tests {
		got := EncodeDelta(tc.value)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("EncodeDelta(%q) = % x, want % x", tc.value, got, tc.want)
		}
		back, err := DecodeDelta(got)
		if err != nil || !bytes.Equal(back, tc.value) || (len(tc.value) == 0) != (back == nil) {
			t.Errorf("DecodeDelta(% x) = %q, %v; want %q", got, back, err, tc.value)
		}
	}
	// EncodeDelta must not alias its argument.
	v := []byte("abc")
	d := EncodeDelta(v)
	v[0] = 'X'
	if d[1] != 'a' {
		t.Errorf("EncodeDelta aliases its argument")
	}
}

func TestDecodeDeltaErrors(t *testing.T) {
	for _, d := range [][]byte{nil, {}, {1}, {2, 'x'}, {0}, {0, 'x'}, {3, 'x'}, {0xff}} {
		if v, err := DecodeDelta(d); err == nil {
			t.Errorf("DecodeDelta(% x) = %q, want an error", d, v)
		}
	}
}

func TestDeltaRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := rapid.SliceOfN(rapid.Byte(), 0, 100).Draw(t, "v")
		d := EncodeDelta(v)
		if len(d) == 0 {
			t.Fatalf("empty delta for %x (Origin rejects an empty delta)", v)
		}
		got, err := DecodeDelta(d)
		if err != nil {
			t.Fatalf("DecodeDelta(EncodeDelta(%x)): %v", v, err)
		}
		if !bytes.Equal(got, v) || (len(v) == 0 && got != nil) {
			t.Fatalf("round trip of %x gave %x", v, got)
		}
	})
}

// TestDigestWorkedExample pins docs/digest.md's example, whose values were
// computed from the written definition by an independent implementation:
// a node in another language that follows the document gets these.
func TestDigestWorkedExample(t *testing.T) {
	c := NewCollection("c")
	c.Put("d1", []byte("hello"))
	if got := c.Digest(); got != 0xc42ef3f5f8fde4d3 {
		t.Errorf("digest of {d1: hello} = %#x, want 0xc42ef3f5f8fde4d3", got)
	}
	c.Put("d2", []byte("world"))
	if got := c.Digest(); got != 0xf3902df350dc1869 {
		t.Errorf("digest of {d1: hello, d2: world} = %#x, want 0xf3902df350dc1869", got)
	}
	c.Put("d1", nil)
	if got := c.Digest(); got != 0x2f6139fd57de3396 {
		t.Errorf("after deleting d1: %#x, want 0x2f6139fd57de3396", got)
	}
}
