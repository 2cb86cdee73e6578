package avro

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/dqaudit/dqaudit/audit"
)

const (
	magic      = "Obj\x01"
	syncLength = 16
)

// The block codecs this package reads and writes, by their avro.codec
// names.
const (
	CodecNull      = "null"
	CodecDeflate   = "deflate"
	CodecSnappy    = "snappy"
	CodecZstandard = "zstandard"
)

func knownCodec(name string) bool {
	switch name {
	case CodecNull, CodecDeflate, CodecSnappy, CodecZstandard:
		return true
	}
	return false
}

// countingReader reads a stream sequentially and knows its offset.
type countingReader struct {
	r      *bufio.Reader
	off    int64
	pooled bool // r is the Reader's, to recycle
}

func newCountingReader(r io.Reader) *countingReader {
	return &countingReader{r: bufio.NewReaderSize(r, readBytes)}
}

func (c *countingReader) readByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.off++
	}
	return b, err
}

func (c *countingReader) readFull(p []byte) error {
	n, err := io.ReadFull(c.r, p)
	c.off += int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readN appends n bytes to b. It grows b as the bytes arrive, so that a
// corrupt size in a short file allocates no more than the file holds.
func (c *countingReader) readN(b []byte, n int64) ([]byte, error) {
	const step = 1 << 20
	for rest := n; rest > 0; {
		if len(b) == cap(b) {
			b = slices.Grow(b, int(min(rest, max(int64(len(b)), step))))
		}
		chunk := b[len(b):min(int64(cap(b)), int64(len(b))+rest)]
		if err := c.readFull(chunk); err != nil {
			return b, err
		}
		b = b[:len(b)+len(chunk)]
		rest -= int64(len(chunk))
	}
	return b, nil
}

// readLong reads a zigzag varint long. It returns io.EOF only when the
// stream ends before the first byte.
func (c *countingReader) readLong() (int64, error) {
	var u uint64
	for i := 0; i < 10; i++ {
		b, err := c.readByte()
		if err != nil {
			if err == io.EOF && i > 0 {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if i == 9 && b > 1 {
			break
		}
		u |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, errors.New("varint overflows a long")
}

// header is what an OCF header declares.
type header struct {
	schema   string
	schemaAt int64 // offset of the schema's text, where its errors are
	codec    string
	sync     [syncLength]byte
}

// readHeader reads the magic, the metadata map and the sync marker. limit
// bounds the metadata's size so that a corrupt length allocates nothing
// large. Its errors are *audit.ReadError at the offset of the part that is
// wrong or cut short (the magic, a metadata length or value, the sync
// marker), as a block's errors are at the block's start.
func readHeader(c *countingReader, limit int64) (header, error) {
	var h header
	at := int64(0) // start of the part being read
	fail := func(err error) (header, error) {
		return h, &audit.ReadError{Offset: at, Block: -1, Err: err}
	}
	var m [4]byte
	if err := c.readFull(m[:]); err != nil {
		if c.off == 0 && errors.Is(err, io.ErrUnexpectedEOF) {
			return fail(errors.New("empty file: not an Avro object container file"))
		}
		return fail(fmt.Errorf("read magic: %w", err))
	}
	if string(m[:]) != magic {
		return fail(fmt.Errorf("not an Avro object container file (magic %q)", m[:]))
	}
	meta := map[string][]byte{}
	valueAt := map[string]int64{}
	metaAt := c.off
	budget := limit
	readBytes := func(what string) ([]byte, error) {
		at = c.off
		n, err := c.readLong()
		if err != nil {
			return nil, fmt.Errorf("read metadata %s length: %w", what, noEOF(err))
		}
		if n < 0 || n > budget {
			return nil, fmt.Errorf("metadata %s length %d out of bounds", what, n)
		}
		budget -= n
		b := make([]byte, n)
		at = c.off
		if err := c.readFull(b); err != nil {
			return nil, fmt.Errorf("read metadata %s: %w", what, err)
		}
		return b, nil
	}
	for {
		at = c.off
		count, err := c.readLong()
		if err != nil {
			return fail(fmt.Errorf("read metadata: %w", noEOF(err)))
		}
		if count == 0 {
			break
		}
		if count < 0 {
			count = -count
			if count < 0 {
				return fail(errors.New("bad metadata entry count"))
			}
			if _, err := c.readLong(); err != nil { // block size, not needed
				return fail(fmt.Errorf("read metadata: %w", noEOF(err)))
			}
		}
		if count > budget/2 { // each entry takes two length bytes at least
			return fail(fmt.Errorf("metadata entry count %d out of bounds", count))
		}
		for range count {
			k, err := readBytes("key")
			if err != nil {
				return fail(err)
			}
			v, err := readBytes("value")
			if err != nil {
				return fail(err)
			}
			budget -= 2
			meta[string(k)] = v
			valueAt[string(k)] = at
		}
	}
	schema, ok := meta["avro.schema"]
	if !ok {
		at = metaAt
		return fail(errors.New("header has no avro.schema"))
	}
	h.schema, h.schemaAt = string(schema), valueAt["avro.schema"]
	h.codec = CodecNull
	if codec, ok := meta["avro.codec"]; ok {
		h.codec = string(codec)
	}
	if !knownCodec(h.codec) {
		at = valueAt["avro.codec"]
		return fail(fmt.Errorf("unsupported codec %q", h.codec))
	}
	at = c.off
	if err := c.readFull(h.sync[:]); err != nil {
		return fail(fmt.Errorf("read sync marker: %w", err))
	}
	return h, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// appendLong appends v as a zigzag varint long.
func appendLong(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

// appendHeader appends an OCF header.
func appendHeader(b []byte, schema, codec string, sync [syncLength]byte) []byte {
	b = append(b, magic...)
	b = appendLong(b, 2)
	for _, kv := range [][2]string{{"avro.codec", codec}, {"avro.schema", schema}} {
		b = appendLong(b, int64(len(kv[0])))
		b = append(b, kv[0]...)
		b = appendLong(b, int64(len(kv[1])))
		b = append(b, kv[1]...)
	}
	b = appendLong(b, 0)
	return append(b, sync[:]...)
}
