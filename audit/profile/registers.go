package profile

import (
	"encoding/binary"
	"math/bits"
	"unsafe"

	"github.com/axiomhq/hyperloglog"
	metro "github.com/dgryski/go-metro"
)

// registers are the registers of a dense HyperLogLog sketch of precision
// HLLPrecision, as hyperloglog.Sketch keeps them. The Builder inserts into
// them in place: the sketch's Insert costs two calls and its checks for
// the sparse form on each value, which a high-cardinality field pays on
// every event.
type registers [1 << HLLPrecision]uint8

// metroSeed is the seed with which hyperloglog.Sketch.Insert hashes,
// fixed by its version 2 encoding.
const metroSeed = 1337

// insertString adds s as hyperloglog.Sketch.Insert adds its bytes.
func (r *registers) insertString(s string) {
	r.insertHash(hashString(s))
}

// hashString returns metro.Hash64Str(s, metroSeed), the hash that
// hyperloglog.Sketch.Insert takes of s's bytes. It hashes strings of
// fewer than 32 bytes itself, which ids and names are: metro's assembly
// takes its arguments on the stack, and for a few bytes its fixed steps
// cost more than the hashing.
func hashString(s string) uint64 {
	n := uint(len(s))
	if n >= 32 {
		return metro.Hash64Str(s, metroSeed)
	}
	// metro's steps of 16, 8, 4, 2 and 1 bytes, each taken while that
	// many remain: the bits of n say which there are, and each starts
	// where the longer ones ended.
	const k0, k1, k2, k3 = metroK0, metroK1, metroK2, metroK3
	p := unsafe.Pointer(unsafe.StringData(s))
	h := uint64(metroInit)
	if n&16 != 0 {
		v0 := h + load64(p, 0)*k2
		v0 = bits.RotateLeft64(v0, -29) * k3
		v1 := h + load64(p, 8)*k2
		v1 = bits.RotateLeft64(v1, -29) * k3
		v0 ^= bits.RotateLeft64(v0*k0, -21) + v1
		v1 ^= bits.RotateLeft64(v1*k3, -21) + v0
		h += v1
	}
	if n&8 != 0 {
		h += load64(p, n&16) * k3
		h ^= bits.RotateLeft64(h, -55) * k1
	}
	if n&4 != 0 {
		h += uint64(*(*uint32)(unsafe.Add(p, n&24))) * k3
		h ^= bits.RotateLeft64(h, -26) * k1
	}
	if n&2 != 0 {
		h += uint64(*(*uint16)(unsafe.Add(p, n&28))) * k3
		h ^= bits.RotateLeft64(h, -48) * k1
	}
	if n&1 != 0 {
		h += uint64(*(*uint8)(unsafe.Add(p, n&30))) * k3
		h ^= bits.RotateLeft64(h, -37) * k1
	}
	h ^= bits.RotateLeft64(h, -28)
	h *= k0
	return h ^ bits.RotateLeft64(h, -29)
}

// load64 reads the little-endian word at p+off, which the caller has
// checked lies within its string: the unaligned load x86 does in one
// instruction.
func load64(p unsafe.Pointer, off uint) uint64 { return *(*uint64)(unsafe.Add(p, off)) }

// The constants of metro's 64-bit hash.
const (
	metroK0 = 0xD6D018F5
	metroK1 = 0xA2AA033B
	metroK2 = 0x62992FC1
	metroK3 = 0x30BC5B29

	metroInit = (metroSeed + metroK2) * metroK0 // the hash before any byte, for metroSeed
)

// insertHash adds the hash x as hyperloglog.Sketch.InsertHash does to a
// dense sketch: the top bits choose a register, which keeps the largest
// position of the first 1 bit among the rest.
func (r *registers) insertHash(x uint64) {
	const p = HLLPrecision
	i := x >> (64 - p)
	rho := uint8(bits.LeadingZeros64(x<<p|1<<(p-1))) + 1
	if rho > r[i] {
		r[i] = rho
	}
}

// sketch returns a dense hyperloglog.Sketch of the registers, read from
// their version 2 encoding so that it encodes to the same bytes.
func (r *registers) sketch() *hyperloglog.Sketch {
	b := make([]byte, 8, 8+len(r))
	b[0], b[1] = 2, HLLPrecision // version, precision; bias 0, dense
	binary.BigEndian.PutUint32(b[4:], uint32(len(r)))
	b = append(b, r[:]...)
	h := new(hyperloglog.Sketch)
	if err := h.UnmarshalBinary(b); err != nil {
		panic("profile: hyperloglog: " + err.Error()) // a constant header
	}
	return h
}
