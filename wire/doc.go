// Package wire encodes and decodes NodeDB sync frames byte-exactly as the
// Rust side does.
//
// A frame is [type:1][length:4 LE][body]; the body is MessagePack written by
// the zerompk codec: structs as arrays in declaration order, unsigned
// integers in their smallest unsigned form, signed integers only in signed
// forms, bin for byte fields, enums as [name, payload]. The rules that differ
// between NodeDB releases live in a Profile value, so a second wire profile
// is data, not a fork of the code.
//
// Codec.Decode returns a fresh message per frame. A Scratch (Codec.NewScratch)
// decodes into one reusable message per type instead, for receivers that
// handle a frame and move on: the simulated nodes decode every frame that
// way, and keep copies of what they retain.
//
// Nothing in this package panics on any input: every failure is an *Error
// that names its kind, the byte offset and, for bodies, the field.
package wire
