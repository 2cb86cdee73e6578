package avro

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

// decompressor decompresses blocks for one goroutine, reusing its output
// buffer and codec state from block to block and file to file.
type decompressor struct {
	codec string
	max   int64 // decompressed bytes allowed per block
	buf   []byte
	src   bytes.Reader
	flate io.ReadCloser
	// zstd is used with DecodeAll only: it starts no goroutine, and needs
	// no Close. zstdMax is the max it was made for.
	zstd    *zstd.Decoder
	zstdMax int64
}

func (d *decompressor) tooBig() error {
	return fmt.Errorf("block decompresses to more than %d bytes", d.max)
}

// decompress returns a block's data. The result aliases raw (null codec)
// or d's buffer, and is valid until the next call.
func (d *decompressor) decompress(raw []byte) ([]byte, error) {
	switch d.codec {
	case CodecNull:
		return raw, nil
	case CodecDeflate:
		d.src.Reset(raw)
		if d.flate == nil {
			d.flate = flate.NewReader(&d.src)
		} else if err := d.flate.(flate.Resetter).Reset(&d.src, nil); err != nil {
			return nil, err
		}
		out, err := readAtMost(d.flate, d.buf[:0], d.max)
		d.buf = out[:0]
		if err != nil {
			if errors.Is(err, errTooBig) {
				return nil, d.tooBig()
			}
			return nil, fmt.Errorf("deflate: %w", err)
		}
		return out, nil
	case CodecSnappy:
		if len(raw) < 4 {
			return nil, errors.New("snappy block shorter than its checksum")
		}
		body, sum := raw[:len(raw)-4], binary.BigEndian.Uint32(raw[len(raw)-4:])
		n, err := snappy.DecodedLen(body)
		if err != nil {
			return nil, fmt.Errorf("snappy: %w", err)
		}
		if int64(n) > d.max {
			return nil, d.tooBig()
		}
		if cap(d.buf) < n {
			d.buf = make([]byte, 0, n)
		}
		out, err := snappy.Decode(d.buf[:cap(d.buf)], body)
		if err != nil {
			return nil, fmt.Errorf("snappy: %w", err)
		}
		if got := crc32.ChecksumIEEE(out); got != sum {
			return nil, fmt.Errorf("snappy checksum mismatch: data has %08x, block says %08x", got, sum)
		}
		return out, nil
	case CodecZstandard:
		if d.zstd == nil || d.zstdMax != d.max {
			z, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderMaxMemory(uint64(d.max)))
			if err != nil {
				return nil, err
			}
			d.zstd, d.zstdMax = z, d.max
		}
		out, err := d.zstd.DecodeAll(raw, d.buf[:0])
		if err != nil {
			if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
				return nil, d.tooBig()
			}
			return nil, fmt.Errorf("zstandard: %w", err)
		}
		if int64(len(out)) > d.max {
			return nil, d.tooBig()
		}
		d.buf = out[:0]
		return out, nil
	}
	return nil, fmt.Errorf("unsupported codec %q", d.codec)
}

var errTooBig = errors.New("too big")

// readAtMost reads r to its end into b, failing once more than max bytes
// arrive.
func readAtMost(r io.Reader, b []byte, limit int64) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			if int64(len(b)) > limit {
				return b, errTooBig
			}
			grow := int(min(int64(max(len(b), 4096)), limit+1-int64(len(b))))
			b = slices.Grow(b, grow)
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return b, errTooBig
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// compressor compresses blocks for a Writer.
type compressor struct {
	codec string
	buf   bytes.Buffer
	out   []byte
	flate *flate.Writer
	zstd  *zstd.Encoder
}

func newCompressor(codec string) (*compressor, error) {
	c := &compressor{codec: codec}
	var err error
	switch codec {
	case CodecNull, CodecSnappy:
	case CodecDeflate:
		c.flate, err = flate.NewWriter(&c.buf, flate.DefaultCompression)
	case CodecZstandard:
		c.zstd, err = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	default:
		err = fmt.Errorf("unsupported codec %q (want %s, %s, %s or %s)", codec,
			CodecNull, CodecDeflate, CodecSnappy, CodecZstandard)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// compress returns data compressed; the result is valid until the next call.
func (c *compressor) compress(data []byte) ([]byte, error) {
	switch c.codec {
	case CodecDeflate:
		c.buf.Reset()
		c.flate.Reset(&c.buf)
		if _, err := c.flate.Write(data); err != nil {
			return nil, err
		}
		if err := c.flate.Close(); err != nil {
			return nil, err
		}
		return c.buf.Bytes(), nil
	case CodecSnappy:
		c.out = snappy.Encode(c.out[:cap(c.out)], data)
		c.out = binary.BigEndian.AppendUint32(c.out, crc32.ChecksumIEEE(data))
		return c.out, nil
	case CodecZstandard:
		c.out = c.zstd.EncodeAll(data, c.out[:0])
		return c.out, nil
	}
	return data, nil
}

func (c *compressor) close() {
	if c.zstd != nil {
		_ = c.zstd.Close()
	}
}
