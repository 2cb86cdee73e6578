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
	r.insertHash(metro.Hash64Str(s, metroSeed))
}

// load64, load32 and load16 read the little-endian word at p+off, which
// the caller has checked lies within its string, as metro reads it on any
// machine: on x86, one unaligned load each.
func load64(p unsafe.Pointer, off uint) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, off))[:])
}

func load32(p unsafe.Pointer, off uint) uint32 {
	return binary.LittleEndian.Uint32((*[4]byte)(unsafe.Add(p, off))[:])
}

func load16(p unsafe.Pointer, off uint) uint16 {
	return binary.LittleEndian.Uint16((*[2]byte)(unsafe.Add(p, off))[:])
}

// The constants of metro's 64-bit hash, with which ObserveValues hashes
// strings shorter than 32 bytes itself.
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
