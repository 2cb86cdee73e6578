package avro

import (
	"errors"
	"fmt"
	"math"
)

// Limits that keep goavro from allocating or recursing without bound on a
// corrupt record. goavro sizes an array or map by the item count the data
// claims, so a few flipped bits could make it ask for gigabytes.
const (
	maxItemsPerRecord = 1 << 20 // array and map items in one record, in all
	maxValueDepth     = 500     // nesting of records, unions, arrays and maps
)

var errShort = errors.New("record runs past the end of the block")

// walker checks one record's encoding against the schema without
// decoding it, so that goavro only ever sees records whose arrays, maps
// and recursion are within limits.
type walker struct {
	items int
	// zero counts the array items of the block that encode to no
	// bytes (nulls, empty records): no block size bounds them, and each
	// costs its decoding and a few bytes of JSON text.
	zero int64
}

func (w *walker) record(n *node, b []byte) ([]byte, error) {
	w.items = 0
	return w.walk(n, b, 0)
}

func (w *walker) walk(n *node, b []byte, depth int) ([]byte, error) {
	switch n.typ {
	case tNull:
		return b, nil
	case tBoolean:
		return skip(b, 1)
	case tInt, tLong, tEnum:
		_, b, err := varint(b)
		return b, err
	case tFloat:
		return skip(b, 4)
	case tDouble:
		return skip(b, 8)
	case tFixed:
		return skip(b, n.size)
	case tBytes, tString:
		return skipBytes(b)
	}
	if depth++; depth > maxValueDepth {
		return nil, fmt.Errorf("values nested more than %d deep", maxValueDepth)
	}
	switch n.typ {
	case tRecord:
		var err error
		for _, f := range n.fields {
			if b, err = w.walk(f.typ, b, depth); err != nil {
				return nil, err
			}
		}
		return b, nil
	case tUnion:
		i, b, err := varint(b)
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= int64(len(n.branches)) {
			return nil, fmt.Errorf("union index %d out of range", i)
		}
		return w.walk(n.branches[i], b, depth)
	case tArray, tMap:
		for {
			count, rest, err := varint(b)
			if err != nil {
				return nil, err
			}
			b = rest
			if count == 0 {
				return b, nil
			}
			if count < 0 {
				if count == math.MinInt64 {
					return nil, fmt.Errorf("bad item count %d", count)
				}
				count = -count
				var size int64
				if size, b, err = varint(b); err != nil {
					return nil, err
				}
				if size < 0 || size > int64(len(b)) {
					return nil, fmt.Errorf("bad item block size %d", size)
				}
			}
			if count > int64(maxItemsPerRecord-w.items) {
				return nil, fmt.Errorf("more than %d array or map items in one record", maxItemsPerRecord)
			}
			w.items += int(count)
			for range count {
				before := len(b) // a map item's key takes a byte at least
				if n.typ == tMap {
					if b, err = skipBytes(b); err != nil {
						return nil, err
					}
				}
				if b, err = w.walk(n.items, b, depth); err != nil {
					return nil, err
				}
				if len(b) == before {
					if w.zero++; w.zero > maxZeroByteValues {
						return nil, fmt.Errorf("more than %d array items in the block encode to no bytes", maxZeroByteValues)
					}
				}
			}
		}
	}
	return nil, fmt.Errorf("unknown type %d", n.typ)
}

// skipBytes skips a length-prefixed string or bytes value.
func skipBytes(b []byte) ([]byte, error) {
	l, b, err := varint(b)
	if err != nil {
		return nil, err
	}
	if l < 0 {
		return nil, fmt.Errorf("negative length %d", l)
	}
	if l > int64(len(b)) {
		return nil, errShort
	}
	return b[l:], nil
}

func skip(b []byte, n int) ([]byte, error) {
	if n > len(b) {
		return nil, errShort
	}
	return b[n:], nil
}

// varint decodes a zigzag varint long from b.
func varint(b []byte) (int64, []byte, error) {
	var u uint64
	for i := 0; i < len(b) && i < 10; i++ {
		c := b[i]
		if i == 9 && c > 1 {
			return 0, nil, errors.New("varint overflows a long")
		}
		u |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1), b[i+1:], nil
		}
	}
	if len(b) >= 10 {
		return 0, nil, errors.New("varint overflows a long")
	}
	return 0, nil, errShort
}
