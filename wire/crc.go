package wire

import "github.com/klauspost/crc32"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum is the CRC32C (Castagnoli) of b, as DeltaPush.checksum carries it.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// ChecksumOK reports whether a DeltaPush's checksum matches its delta. A
// zero checksum comes from legacy clients and is accepted, as Origin does.
func (m *DeltaPush) ChecksumOK() bool {
	return m.Checksum == 0 || m.Checksum == Checksum(m.Delta)
}

// Seal sets the DeltaPush's checksum from its delta.
func (m *DeltaPush) Seal() { m.Checksum = Checksum(m.Delta) }
