package avro

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/linkedin/goavro/v2"
)

// DefaultRecordsPerBlock is the block size of a Writer made with a
// recordsPerBlock of zero or less.
const DefaultRecordsPerBlock = 1000

// Writer writes an Avro Object Container File. It frames every codec
// itself (goavro's OCFWriter has no zstandard) and encodes records with
// goavro. The sync marker is derived from the schema and codec, so the
// same records make the same bytes on every run.
type Writer struct {
	w        io.Writer
	codec    *goavro.Codec
	comp     *compressor
	sync     [syncLength]byte
	perBlock int
	block    []byte // encoded records of the pending block
	count    int
	frame    []byte
	err      error // sticky
	closed   bool
}

// NewWriter returns a Writer that writes a file with the given writer
// schema and codec (null, deflate, snappy or zstandard; "" means null) to
// w, recordsPerBlock records to a block. It writes the header at once.
// Closing w stays the caller's job.
func NewWriter(w io.Writer, schemaJSON string, codec string, recordsPerBlock int) (*Writer, error) {
	if codec == "" {
		codec = CodecNull
	}
	comp, err := newCompressor(codec)
	if err != nil {
		return nil, err
	}
	c, err := goavro.NewCodec(schemaJSON)
	if err != nil {
		comp.close()
		return nil, fmt.Errorf("schema: %w", err)
	}
	if recordsPerBlock <= 0 {
		recordsPerBlock = DefaultRecordsPerBlock
	}
	sum := sha256.Sum256([]byte("dqaudit sync\x00" + codec + "\x00" + schemaJSON))
	wr := &Writer{w: w, codec: c, comp: comp, perBlock: recordsPerBlock}
	copy(wr.sync[:], sum[:])
	if _, err := w.Write(appendHeader(nil, schemaJSON, codec, wr.sync)); err != nil {
		comp.close()
		return nil, fmt.Errorf("write header: %w", err)
	}
	return wr, nil
}

// Append adds one record, in goavro's native form: a map from field name
// to value, with union values other than null wrapped as
// map[string]any{"type name": value} (goavro.Union).
func (w *Writer) Append(record map[string]any) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("append to closed writer")
	}
	b, err := w.codec.BinaryFromNative(w.block, record)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	w.block = b
	w.count++
	if w.count >= w.perBlock {
		return w.flush()
	}
	return nil
}

// Flush writes the pending records as a block, if there are any.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.flush()
}

func (w *Writer) flush() error {
	if w.count == 0 {
		return nil
	}
	data, err := w.comp.compress(w.block)
	if err != nil {
		w.err = fmt.Errorf("compress block: %w", err)
		return w.err
	}
	f := appendLong(w.frame[:0], int64(w.count))
	f = appendLong(f, int64(len(data)))
	f = append(f, data...)
	f = append(f, w.sync[:]...)
	w.frame = f
	if _, err := w.w.Write(f); err != nil {
		w.err = fmt.Errorf("write block: %w", err)
		return w.err
	}
	w.block, w.count = w.block[:0], 0
	return nil
}

// Close writes the pending records. It does not close the underlying
// writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	err := w.Flush()
	w.closed = true
	w.comp.close()
	return err
}
