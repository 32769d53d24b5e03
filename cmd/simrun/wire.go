package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/syncsim/syncsim/wire"
)

// simrun wire: encode a message given as JSON to a frame in hex, and decode
// frames (hex, or raw bytes on stdin) to one "TYPENAME JSON" line each.

const (
	wireEncodeSynopsis = "simrun wire encode [-profile P] TYPE JSON"
	wireDecodeSynopsis = "simrun wire decode [-profile P] [-max-body N] HEX|-"
)

const wireEncodeHelp = `Build one message from its JSON form and print its frame
([type:1][length:4, little-endian][MessagePack body]) as lowercase hex on one
line.

Arguments:
  TYPE  a message name in any case (ResyncRequest, throttle) or its type
        byte (0x50, or decimal 80)
  JSON  the message as Rust's serde writes it: snake_case field names;
        enums externally tagged ("CorruptedState" or
        {"SequenceGap":{"expected":2,"received":5}}); byte fields as arrays
        of numbers ([1,2,3]); null for an absent Option. Every field is
        required and unknown fields are refused. For a type that is known
        but not modelled (e.g. CollectionPurged) any JSON value, which
        becomes the MessagePack body. "-" reads the JSON from stdin.
`

const wireEncodeExamples = `  $ simrun wire encode Throttle '{"throttle":true,"queue_depth":1000,"suggested_rate":50}'
  520600000093c3cd03e832
  $ simrun wire encode -profile zerompk-0.6 0x50 '{"reason":"CorruptedState","from_mutation_id":0,"collection":""}'
  501200000093ae436f72727570746564537461746500a0
  $ echo '{"timestamp_ms":7,"is_pong":false}' | simrun wire encode PingPong -
  ff030000009207c2
`

const wireDecodeHelp = `Decode frames and print one line per frame: the type name, a space, and
the message in the JSON form encode reads.

Arguments:
  HEX  one or more frames back to back, as hex digits; whitespace anywhere
       is ignored and a leading 0x is allowed
  -    read raw frame bytes (not hex) from stdin, as a stream

On a bad frame the frames before it are printed, then one line on stderr
names the problem and its byte offset, counted from the start of the input
(the decoded bytes, not the hex digits); the exit status is 2.
`

const wireDecodeExamples = `  $ simrun wire decode 520600000093c3cd03e832
  Throttle {"throttle":true,"queue_depth":1000,"suggested_rate":50}
  $ printf '\122\006\000\000\000\223\303\315\003\350\062' | simrun wire decode -     # raw bytes on stdin
  Throttle {"throttle":true,"queue_depth":1000,"suggested_rate":50}
`

const wireCommonHelp = `
Flags may come before or after the arguments; -- ends the flags (put it
before an argument that starts with "-"). Exit status: 0 on success, 2 on
any error, reported in one line on stderr.
`

// wireFlags are one verb's flags.
type wireFlags struct {
	fs      *flag.FlagSet
	profile profileFlag
	maxBody int
}

func newWireFlags(verb string) *wireFlags {
	f := &wireFlags{fs: newFlagSet("simrun wire " + verb), profile: profileFlag{wire.Default.Profile()}}
	f.fs.Var(&f.profile, "profile", "use wire profile `P`: "+profileNames())
	if verb == "decode" {
		f.fs.IntVar(&f.maxBody, "max-body", wire.DefaultMaxBody, "refuse a frame whose length field exceeds `N` bytes")
	}
	return f
}

func wireEncodeUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\nFlags:\n", wireEncodeSynopsis, wireEncodeHelp)
	printFlags(w, newWireFlags("encode").fs)
	fmt.Fprintf(w, "%s\nExamples:\n%s", wireCommonHelp, wireEncodeExamples)
}

func wireDecodeUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\nFlags:\n", wireDecodeSynopsis, wireDecodeHelp)
	printFlags(w, newWireFlags("decode").fs)
	fmt.Fprintf(w, "%s\nExamples:\n%s", wireCommonHelp, wireDecodeExamples)
}

func wireUsage(w io.Writer) {
	var modelled, opaque []string
	for _, t := range wire.KnownTypes() {
		s := fmt.Sprintf("%s(0x%02x)", t, byte(t))
		if t.Modelled() {
			modelled = append(modelled, s)
		} else {
			opaque = append(opaque, s)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `Usage:
  %s
  %s

Encode NodeDB sync messages to frames and decode frames back, byte for byte
as the Rust side (zerompk) does.

%s
%s
%s
%s
Flags (-max-body is for decode only):
`, wireEncodeSynopsis, wireDecodeSynopsis,
		wireEncodeSynopsis, indent(wireEncodeHelp, "  "), wireDecodeSynopsis, indent(wireDecodeHelp, "  "))
	printFlags(&b, newWireFlags("decode").fs)
	b.WriteString(wireCommonHelp)
	b.WriteString("\nModelled message types:\n")
	b.WriteString(wrapWords(modelled, "  ", 76))
	b.WriteString("\nKnown types carried as one raw MessagePack value (JSON: any value):\n")
	b.WriteString(wrapWords(opaque, "  ", 76))
	b.WriteString("\nProfiles:\n")
	for _, p := range wire.Profiles() {
		def := ""
		if p == wire.Default.Profile() {
			def = " (the default)"
		}
		fmt.Fprintf(&b, "  %s%s: %s\n", p.Name, def, p.Describe())
	}
	b.WriteString("\nExamples:\n" + wireEncodeExamples + wireDecodeExamples)
	io.WriteString(w, b.String())
}

// runWire is `simrun wire VERB ...`.
func runWire(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	// The codec promises never to panic; this keeps the CLI's promise (one
	// line, exit 2, no stack trace) should that ever be broken.
	defer func() {
		if r := recover(); r != nil {
			code = failf(stderr, "simrun wire", "internal error (a bug, please report it with the input): %v", r)
		}
	}()
	if len(args) == 0 {
		wireUsage(stdout)
		return failf(stderr, "simrun wire", "missing verb: want encode or decode; run simrun wire -h for help")
	}
	switch verb := args[0]; verb {
	case "-h", "-help", "--help", "help":
		wireUsage(stdout)
		return exitOK
	case "encode":
		return wireEncode(args[1:], stdin, stdout, stderr)
	case "decode":
		return wireDecode(args[1:], stdin, stdout, stderr)
	default:
		if strings.HasPrefix(verb, "-") {
			return failf(stderr, "simrun wire", "flag %s before the verb: flags go after encode or decode, e.g. simrun wire decode -profile zerompk-0.6 HEX", verb)
		}
		return failf(stderr, "simrun wire", "unknown verb %q: want encode or decode; run simrun wire -h for help", verb)
	}
}

func wireEncode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f := newWireFlags("encode")
	name := f.fs.Name()
	pos, code, done := parseFlags(f.fs, args, wireEncodeUsage, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 2 {
		hint := ""
		if len(pos) > 2 {
			hint = " (quote the JSON so that it is one argument)"
		}
		return failf(stderr, name, "want 2 arguments, TYPE and JSON, got %d%s; run %s -h for help", len(pos), hint, name)
	}
	t, err := wire.ParseMsgType(pos[0])
	if err != nil {
		return fail(stderr, name, err)
	}
	data := []byte(pos[1])
	if pos[1] == "-" {
		if data, err = io.ReadAll(stdin); err != nil {
			return failf(stderr, name, "reading JSON from stdin: %v", err)
		}
	}
	if err := checkJSONSyntax(data); err != nil {
		return fail(stderr, name, err)
	}
	m, err := wire.MessageFromJSON(t, data)
	if err != nil {
		return fail(stderr, name, err)
	}
	frame, err := wire.NewCodec(f.profile.p, 0).Encode(m)
	if err != nil {
		return fail(stderr, name, err)
	}
	if _, err := fmt.Fprintln(stdout, hex.EncodeToString(frame)); err != nil {
		return failf(stderr, name, "writing output: %v", err)
	}
	return exitOK
}

// checkJSONSyntax reports malformed JSON with the byte offset of the
// problem (counting from 0), which the codec's messages do not give, and
// refuses anything after the value.
func checkJSONSyntax(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v json.RawMessage
	err := dec.Decode(&v)
	var se *json.SyntaxError
	switch {
	case err == io.EOF:
		return fmt.Errorf("malformed JSON: no value, the input is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("malformed JSON: the input ends inside a value, after %d bytes", len(data))
	case errors.As(err, &se):
		// Offset counts the offending byte.
		return fmt.Errorf("malformed JSON at byte %d: %v", max(se.Offset-1, 0), se)
	case err != nil:
		return fmt.Errorf("malformed JSON: %v", err)
	}
	if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return fmt.Errorf("malformed JSON at byte %d: more data after the JSON value", len(data)-len(rest))
	}
	return nil
}

func wireDecode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f := newWireFlags("decode")
	name := f.fs.Name()
	pos, code, done := parseFlags(f.fs, args, wireDecodeUsage, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		return failf(stderr, name, "want 1 argument, HEX or -, got %d; run %s -h for help", len(pos), name)
	}
	if f.maxBody < 1 || f.maxBody > math.MaxUint32 {
		return failf(stderr, name, "-max-body %d: want a number of bytes from 1 to %d", f.maxBody, uint64(math.MaxUint32))
	}
	c := wire.NewCodec(f.profile.p, f.maxBody)
	out := bufio.NewWriter(stdout)
	var err error
	if pos[0] == "-" {
		err = decodeStream(c, stdin, out)
	} else {
		var b []byte
		if b, err = wire.ParseHex(pos[0]); err != nil {
			return fail(stderr, name, err)
		}
		if len(b) == 0 {
			return failf(stderr, name, "no frame: the hex argument is empty (to read raw frames from stdin, give -)")
		}
		err = decodeBytes(c, b, out)
	}
	// The frames before a bad one are printed before the error.
	if ferr := out.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("writing output: %w", ferr)
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	return exitOK
}

// decodeBytes decodes every frame in b, printing those before a bad one.
func decodeBytes(c *wire.Codec, b []byte, out io.Writer) error {
	msgs, derr := c.DecodeAll(b)
	for _, m := range msgs {
		if err := printMessage(out, m); err != nil {
			return err
		}
	}
	return derr
}

// decodeStream decodes frames from r as they arrive.
func decodeStream(c *wire.Codec, r io.Reader, out io.Writer) error {
	rec := &headRecorder{r: r}
	fr := c.NewFrameReader(bufio.NewReaderSize(rec, 64<<10))
	for n := 0; ; n++ {
		f, err := fr.Next()
		if err == io.EOF && n == 0 {
			return errors.New("no frame: stdin ended before the first byte")
		}
		if err == io.EOF {
			return nil
		}
		if err == nil {
			var m wire.Message
			if m, err = c.DecodeBody(f.Type, f.Body); err == nil {
				if err := printMessage(out, m); err != nil {
					return err
				}
				continue
			}
			// DecodeBody counts from the start of the body; the user
			// wants the offset in the stream.
			var we *wire.Error
			if errors.As(err, &we) {
				we.Offset += f.Offset + wire.HeaderLen
			}
		}
		var we *wire.Error
		if !errors.As(err, &we) {
			return fmt.Errorf("reading stdin: %w", err)
		}
		if n == 0 && wire.LooksLikeHex(rec.head) {
			return fmt.Errorf("%w (stdin looks like hex text, but decode - reads raw bytes: pass the hex as the argument instead)", err)
		}
		return err
	}
}

func printMessage(w io.Writer, m wire.Message) error {
	js, err := wire.MessageToJSON(m)
	if err != nil {
		return fmt.Errorf("%s frame decodes but cannot be shown as JSON: %v", m.Type(), err)
	}
	if _, err := fmt.Fprintf(w, "%s %s\n", m.Type(), js); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// headRecorder keeps the first bytes read through it, to recognise a
// mistaken hex-text input.
type headRecorder struct {
	r    io.Reader
	head []byte
}

func (h *headRecorder) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if room := 16 - len(h.head); room > 0 {
		h.head = append(h.head, p[:min(n, room)]...)
	}
	return n, err
}

// profileFlag is -profile: one of wire.Profiles(), chosen by name.
type profileFlag struct{ p wire.Profile }

func (f *profileFlag) String() string {
	if f == nil {
		return ""
	}
	return f.p.Name
}

func (f *profileFlag) Set(s string) error {
	p, ok := wire.ProfileByName(s)
	if !ok {
		return fmt.Errorf("unknown profile; valid profiles: %s", profileNames())
	}
	f.p = p
	return nil
}

func profileNames() string {
	var names []string
	for _, p := range wire.Profiles() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// indent indents every non-empty line of s.
func indent(s, indent string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		if lines[i] != "" {
			lines[i] = indent + lines[i]
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// wrapWords joins words with ", " into lines of at most width columns.
func wrapWords(words []string, indent string, width int) string {
	var b strings.Builder
	line := indent
	for i, w := range words {
		if i < len(words)-1 {
			w += ","
		}
		if line != indent && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += w
	}
	if line != indent {
		b.WriteString(line + "\n")
	}
	return b.String()
}
