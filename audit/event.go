// Package audit scans one day's archive of event files, checks every event
// against the compiled rule book, profiles the day, and returns a mergeable
// Result that the gate and the reports read.
package audit

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dqaudit/dqaudit/rules"
)

// Position says where an event or a malformed line came from. File is the
// index of the file in the scan's plan (files are ordered by input, then
// path), so comparing Positions gives the report's fixed sample order.
type Position struct {
	File   int32
	Line   int64 // 1-based line of a text file; 0 for Avro
	Block  int64 // 0-based Avro block; 0 for text
	Record int64 // 0-based record within the Avro block
}

// Less orders positions by file, then line or block, then record.
func (p Position) Less(q Position) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	if p.Block != q.Block {
		return p.Block < q.Block
	}
	return p.Record < q.Record
}

// Event is one decoded record. Sources reuse events and their Values
// between calls: an Event is valid only during the Sink call that hands it
// over, and whatever outlives the call must be copied.
type Event struct {
	shape  *rules.Shape
	Values []rules.Value
	Pos    Position
}

var _ rules.Event = (*Event)(nil)

// NewEvent returns an event of the given shape with room for its values.
func NewEvent(s *rules.Shape) *Event {
	return &Event{shape: s, Values: make([]rules.Value, len(s.Fields()))}
}

// Reset gives e another shape, keeping its value storage where it fits.
func (e *Event) Reset(s *rules.Shape) {
	e.shape = s
	n := len(s.Fields())
	if cap(e.Values) < n {
		e.Values = make([]rules.Value, n)
	}
	e.Values = e.Values[:n]
	clear(e.Values)
}

// Shape returns the event's shape.
func (e *Event) Shape() *rules.Shape { return e.shape }

// Type returns the event type.
func (e *Event) Type() string { return e.shape.Event() }

// Value returns the value at field position i.
func (e *Event) Value(i int) rules.Value { return e.Values[i] }

// ValueSlice returns all values in field order, so hot loops can read them
// without an interface call per field. The caller must not modify them.
func (e *Event) ValueSlice() []rules.Value { return e.Values }

// Sink receives what a Reader finds in one file. A sink is used by one
// goroutine at a time.
type Sink interface {
	// Event takes one event. The scan's context is checked by the reader,
	// not the sink.
	Event(e *Event)
	// Malformed takes one line or record that could not be made into an
	// event. text is the raw line; the sink copies what it keeps.
	Malformed(pos Position, reason string, text []byte)
}

// Reader reads one input format.
type Reader interface {
	// Read reads one file's decompressed bytes from r and hands what it
	// finds to sinks made by newSink. A reader that decodes in parallel
	// calls newSink once per decoding goroutine, from the goroutine that
	// called Read; the scan merges the sinks afterwards, so the order in
	// which events arrive does not matter. file is the Position.File to
	// stamp on events. Read returns what it learnt of the file and, when it
	// could not read the file to its end, a *ReadError.
	Read(ctx context.Context, r io.Reader, file int32, newSink func() Sink) (FileInfo, error)
}

// FileInfo is what a reader learnt about a file besides its events.
type FileInfo struct {
	// Schemas are the writer schemas the file declared (Avro); none for
	// text formats.
	Schemas []WriterSchema
	// GunzipReread, set by the scan, not the reader, says why the output
	// of the Gunzip program was refused and the file read again with the
	// built-in decoder; empty when it was not.
	GunzipReread string
}

// WriterSchema is one writer schema found in a file.
type WriterSchema struct {
	Event       string        // record name, the event type
	Fingerprint string        // CRC-64-AVRO (Rabin) of the canonical form, 16 hex digits
	Fields      []rules.Field // flattened, dotted names for nested records
	Shape       *rules.Shape  // the shape of events decoded with this schema
}

// ReadError says where reading a file stopped. Events before that point
// are kept.
type ReadError struct {
	Offset int64 // byte offset in the decompressed stream where reading stopped
	Block  int64 // Avro block that failed, or -1
	Line   int64 // text line that failed, or 0
	Err    error
}

func (e *ReadError) Error() string {
	switch {
	case e.Block >= 0:
		return fmt.Sprintf("block %d (offset %d): %v", e.Block, e.Offset, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("line %d (offset %d): %v", e.Line, e.Offset, e.Err)
	}
	return fmt.Sprintf("offset %d: %v", e.Offset, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// AsReadError returns err as a *ReadError, wrapping other errors at offset
// -1 (unknown).
func AsReadError(err error) *ReadError {
	var re *ReadError
	if errors.As(err, &re) {
		return re
	}
	return &ReadError{Offset: -1, Block: -1, Err: err}
}
