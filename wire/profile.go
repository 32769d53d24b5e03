package wire

import "strings"

// UnitVariantStyle is how an enum variant without fields is written.
type UnitVariantStyle uint8

const (
	// UnitArrayNil writes a unit variant as [name, nil] (zerompk 0.4).
	UnitArrayNil UnitVariantStyle = iota
	// UnitBareString writes a unit variant as its bare name (zerompk 0.6+).
	UnitBareString
)

// Profile holds every encoding rule that differs between NodeDB releases.
// A new wire profile is a new Profile value; the message code reads the
// rules from here instead of branching on a version.
type Profile struct {
	Name         string
	UnitVariants UnitVariantStyle
}

var (
	// Zerompk04 is the seed's protocol version (April 2026 Origin): the
	// default profile.
	Zerompk04 = Profile{Name: "zerompk-0.4", UnitVariants: UnitArrayNil}
	// Zerompk06 is the mid-2026 Lite builds: same frames, unit enum
	// variants written as bare strings.
	Zerompk06 = Profile{Name: "zerompk-0.6", UnitVariants: UnitBareString}
)

// Profiles lists the profiles a user may select by name.
func Profiles() []Profile { return []Profile{Zerompk04, Zerompk06} }

// DefaultMaxBody is the default limit on a frame's length field: 16 MiB.
const DefaultMaxBody = 16 << 20

// HeaderLen is the size of the frame header: type byte and u32 LE length.
const HeaderLen = 5

// Codec encodes and decodes frames under one profile. The zero value is not
// usable; start from Default or NewCodec. A Codec is immutable and safe for
// concurrent use.
type Codec struct {
	profile Profile
	maxBody int
}

// NewCodec returns a codec for profile p whose decoder refuses any frame
// whose length field exceeds maxBody (DefaultMaxBody when maxBody <= 0).
func NewCodec(p Profile, maxBody int) *Codec {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	return &Codec{profile: p, maxBody: maxBody}
}

// Default is the codec for the seed's wire profile with a 16 MiB limit.
var Default = NewCodec(Zerompk04, DefaultMaxBody)

// Profile returns the codec's profile.
func (c *Codec) Profile() Profile { return c.profile }

// MaxBody returns the largest length field the codec accepts.
func (c *Codec) MaxBody() int { return c.maxBody }

// ProfileByName finds a profile by name, case-insensitively.
func ProfileByName(name string) (Profile, bool) {
	for _, p := range Profiles() {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return Profile{}, false
}

// Describe says in a few words how p differs.
func (p Profile) Describe() string {
	switch p.UnitVariants {
	case UnitArrayNil:
		return `enum variants without fields written as [name, nil]`
	case UnitBareString:
		return `enum variants without fields written as the bare name`
	}
	return "(no description)"
}
