// Package avro reads Avro Object Container Files: the header, the blocks
// in any of the codecs null, deflate, snappy and zstandard, and the records
// in them, decoded with goavro against the file's writer schema and
// flattened into audit events: nested record fields become dotted names,
// ["null", T] unions nullable T, arrays and maps their JSON text.
//
// Reader.Read frames blocks on the calling goroutine, which only reads and
// checks bounds, and decodes them on a pool of goroutines. A block's events
// reach a sink only once every earlier block is known to decode, so a
// corrupt file delivers exactly the events of the blocks before the first
// bad one, whatever the number of workers. Every size a file claims is
// checked before anything is allocated for it: block counts and sizes
// against MaxBlockBytes and the fewest bytes a record can take (records
// of no bytes against a bound on the file's total), and, for
// schemas with arrays, maps or recursion, each record's items (at most
// 1<<20) and nesting (at most 500 deep) before goavro sees it.
//
// Writer writes such files, for tests and the sample-data generator.
package avro

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/linkedin/goavro/v2"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

// DefaultMaxBlockBytes is the block size limit when Reader.MaxBlockBytes
// is zero. Java writers make blocks of about 64 KB, Python's of 16 KB.
const DefaultMaxBlockBytes = 64 << 20

// stagingValues bounds the values a worker holds for one block while it
// waits for the blocks before it. Bigger blocks are decoded twice: once to
// check them, once to emit them.
const stagingValues = 1 << 19

// maxZeroByteValues bounds the records of a file whose records encode to
// no bytes at all (a record of null fields only, say): a block of a few
// bytes can claim millions of those, and each costs its decoding, about
// 100 ns a field. The bound is on records times fields (at least one), so
// that a file may cost a few tenths of a second: a million records of two
// null fields, or two thousand of a thousand.
const maxZeroByteValues = 1 << 21

// Reader reads Avro Object Container Files. Its zero value is ready to
// use; a Reader may read several files at once, and must not be copied
// after first use.
type Reader struct {
	// Workers is the number of goroutines that decode one file's blocks.
	// Zero means runtime.GOMAXPROCS(0).
	Workers int
	// MaxBlockBytes bounds a block's size both as stored and decompressed,
	// and the size of the file header. Zero means DefaultMaxBlockBytes.
	MaxBlockBytes int64
	// Events are the event types besides the built-in ones that rules may
	// name (the config's events:). A record whose name is none of these
	// nor a built-in type, but whose aliases name one, is audited as that
	// type: see eventType.
	Events []string

	staging int // stagingValues unless set (by tests)

	// What files share: a day of thousands of small files would
	// otherwise compile the same writer schema, and make block decoders
	// (a zstd decoder allocates hundreds of KB) and a read buffer, for
	// each file, garbage that set the scan's peak RSS. Files of one schema
	// also share one Shape, so that what is planned per shape downstream
	// (profiles, rules) is planned once.
	mu          sync.Mutex
	schemas     map[string]*cachedSchema // by the schema's text
	cachedBytes int                      // of the texts in schemas
	idle        sync.Pool                // *worker
	bufs        sync.Pool                // *bufio.Reader of readBytes
}

// readBytes is the buffer a file is read through.
const readBytes = 64 << 10

// countingReader returns a reader of in, buffered unless in is a buffer
// large enough already (the scan reads plain files through one of its
// own). Give it back with recycle.
func (r *Reader) countingReader(in io.Reader) *countingReader {
	if br, ok := in.(*bufio.Reader); ok && br.Size() >= readBytes {
		return &countingReader{r: br}
	}
	br, _ := r.bufs.Get().(*bufio.Reader)
	if br == nil {
		return &countingReader{r: bufio.NewReaderSize(in, readBytes), pooled: true}
	}
	br.Reset(in)
	return &countingReader{r: br, pooled: true}
}

func (r *Reader) recycle(cr *countingReader) {
	if cr.pooled {
		cr.r.Reset(nil)
		r.bufs.Put(cr.r)
	}
}

// cachedSchema is a compiled schema and the Events it was compiled with.
type cachedSchema struct {
	events []string
	fs     *fileSchema
}

// Bounds of the schema cache, in schemas and in bytes of their text: a
// schema met once the cache is full is compiled for each file.
const (
	maxCachedSchemas     = 64
	maxCachedSchemaBytes = 4 << 20
)

// schema returns the compiled form of the writer schema text, from the
// cache when it was compiled before with the same r.Events. A fileSchema
// is read-only, so files read at once share it.
func (r *Reader) schema(text string) (*fileSchema, error) {
	r.mu.Lock()
	c := r.schemas[text]
	r.mu.Unlock()
	if c != nil && slices.Equal(c.events, r.Events) {
		return c.fs, nil
	}
	fs, err := compileSchema(text, r.Events)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.schemas == nil {
		r.schemas = map[string]*cachedSchema{}
	}
	_, known := r.schemas[text] // compiled for other Events, or by another file at once
	if !known {
		if len(r.schemas) >= maxCachedSchemas || r.cachedBytes+len(text) > maxCachedSchemaBytes {
			return fs, nil
		}
		r.cachedBytes += len(text)
	}
	r.schemas[text] = &cachedSchema{events: slices.Clone(r.Events), fs: fs}
	return fs, nil
}

var _ audit.Reader = (*Reader)(nil)

// New returns a Reader with default settings.
func New() *Reader { return &Reader{} }

func (r *Reader) workers() int {
	if r.Workers > 0 {
		return r.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (r *Reader) maxBlock() int64 {
	if r.MaxBlockBytes > 0 {
		return r.MaxBlockBytes
	}
	return DefaultMaxBlockBytes
}

// fileSchema is a file's compiled writer schema, shared read-only by the
// file's workers.
type fileSchema struct {
	fields   []*goavro.Codec // one per top-level field
	root     *node
	plan     *plan
	shape    *rules.Shape
	minBytes int  // fewest bytes one record encodes to
	walk     bool // records must be walked before goavro decodes them
	info     audit.WriterSchema
}

// compileSchema compiles a writer schema; events are the event types
// besides the built-in ones that its record's aliases may name.
func compileSchema(schema string, events []string) (fs *fileSchema, err error) {
	defer func() {
		if p := recover(); p != nil {
			fs, err = nil, fmt.Errorf("schema: %w", recovered{p})
		}
	}()
	root, err := parseSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if root.typ != tRecord {
		return nil, fmt.Errorf("schema: top-level type is %s, not a record", root.typ)
	}
	// goavro checks what the parser above takes on trust, such as names.
	form := canonical(root)
	if _, err := goavro.NewCodec(form); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	// Records are decoded field by field, each top-level field with a
	// codec of its own: this spares goavro's map of the whole record, a
	// third of its work on flat records. Strings are decoded as bytes,
	// which share their encoding: goavro then copies each once, not twice.
	codecs := make([]*goavro.Codec, len(root.fields))
	for i, f := range root.fields {
		if codecs[i], err = goavro.NewCodec(fieldSchema(f.typ)); err != nil {
			return nil, fmt.Errorf("schema: field %q: %w", f.name, err)
		}
	}
	fields, plan, err := flatten(root)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	event, err := eventType(root, events)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	// The fingerprint stays that of the schema as written, name included:
	// a renamed record is a new writer schema of its event type.
	shape := rules.NewShape(event, fields)
	return &fileSchema{
		fields:   codecs,
		root:     root,
		plan:     plan,
		shape:    shape,
		minBytes: root.minBytes(),
		walk:     needsWalk(root, map[*node]uint8{}),
		info: audit.WriterSchema{
			Event:       shape.Event(),
			Fingerprint: fmt.Sprintf("%016x", rabin([]byte(form))),
			Fields:      shape.Fields(),
			Shape:       shape,
		},
	}, nil
}

// eventType returns the event type of the records of root: the record's
// name without its namespace (events are matched by that alone), unless
// it names no type that rules may name (a built-in one or one of events)
// and its aliases do. A record renamed with an alias (WatchEvent, aliased
// MovieWatchEvent) keeps the rules of its old name; its own name wins over
// its aliases, as an alias is a name the type is also known by. Aliases
// of two event types are an error: the records cannot be both. Only the
// top-level record's aliases are checked, since only they are used.
func eventType(root *node, events []string) (string, error) {
	known := func(s string) bool {
		_, ok := rules.BuiltinFields(s)
		return ok || slices.Contains(events, s)
	}
	if root.badAliases {
		return "", fmt.Errorf("record %q: aliases must be a list of names", root.name)
	}
	for _, a := range root.aliases {
		if !validFullName(a) {
			return "", fmt.Errorf("record %q: alias %q is not an Avro name", root.name, a)
		}
	}
	name := shortName(root.name)
	if known(name) {
		return name, nil
	}
	var found []string
	for _, a := range root.aliases {
		if s := shortName(a); known(s) && !slices.Contains(found, s) {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return name, nil
	case 1:
		return found[0], nil
	}
	slices.Sort(found)
	return "", fmt.Errorf("record %q has aliases of %d event types, %s: its events cannot be all of them",
		root.name, len(found), strings.Join(found, ", "))
}

// Read reads one file from in and hands its events to sinks made by
// newSink, one per decoding goroutine. See the package comment for what
// reaches the sinks when the file is corrupt. Errors are *audit.ReadError,
// except ctx.Err() when ctx ends first.
func (r *Reader) Read(ctx context.Context, in io.Reader, file int32, newSink func() audit.Sink) (audit.FileInfo, error) {
	var info audit.FileInfo
	if err := ctx.Err(); err != nil {
		return info, err
	}
	maxBlock := r.maxBlock()
	cr := r.countingReader(in)
	defer r.recycle(cr)
	h, err := readHeader(cr, maxBlock)
	if err != nil {
		return info, err
	}
	fs, err := r.schema(h.schema)
	if err != nil {
		return info, &audit.ReadError{Offset: h.schemaAt, Block: -1, Err: err}
	}
	info.Schemas = []audit.WriterSchema{fs.info}

	n := r.workers()
	p := &pipeline{
		ctx:      ctx,
		fs:       fs,
		codec:    h.codec,
		sync:     h.sync,
		file:     file,
		maxBlock: maxBlock,
		staging:  int64(cmp.Or(r.staging, stagingValues)),
		jobs:     make(chan *job, n+1),
		free:     make(chan *job, n+1),
		gate:     newGate(),
	}
	for range n + 1 {
		p.free <- &job{}
	}
	sinks := make([]audit.Sink, n)
	for i := range sinks {
		sinks[i] = newSink()
	}
	var wg sync.WaitGroup
	for _, s := range sinks {
		wg.Go(func() { r.work(p, s) })
	}
	p.frame(cr)
	close(p.jobs)
	wg.Wait()

	if err := ctx.Err(); err != nil {
		return info, err
	}
	if p.gate.err != nil {
		return info, p.gate.err
	}
	return info, nil
}

// recovered is a panic turned into the file's error.
type recovered struct{ v any }

func (r recovered) Error() string { return fmt.Sprintf("panic: %v", r.v) }

// job is one block on its way from the framing goroutine to a worker.
type job struct {
	index  int64
	offset int64
	count  int64
	raw    []byte
}

type pipeline struct {
	ctx      context.Context
	fs       *fileSchema
	codec    string
	sync     [syncLength]byte
	file     int32
	maxBlock int64
	staging  int64
	jobs     chan *job
	free     chan *job // recycled jobs and their buffers: memory stays flat
	gate     *gate
	// zeroItems counts the array items of no bytes in the blocks
	// let out so far, in block order: only the block the gate lets out
	// touches it.
	zeroItems int64
}

// frame reads blocks sequentially, checks their framing and bounds, and
// queues them for the workers, until the end of the file, an error, or
// the failure of an earlier block.
func (p *pipeline) frame(cr *countingReader) {
	var index, start int64
	defer func() {
		if v := recover(); v != nil {
			p.gate.fail(index, start, recovered{v})
		}
	}()
	fail := func(format string, args ...any) {
		p.gate.fail(index, start, fmt.Errorf(format, args...))
	}
	// The most records a block can hold, so that a corrupt count is caught
	// before any work is sized by it.
	maxRecords := p.maxBlock / int64(max(p.fs.minBytes, 1))
	// Records of no bytes: a bound on the file's total, since no block
	// size bounds them (see maxZeroByteValues).
	zeroLimit := maxZeroByteValues / int64(max(len(p.fs.shape.Fields()), 1))
	var records int64
	for ; ; index++ {
		if p.ctx.Err() != nil || p.gate.abandoned(index) {
			return
		}
		start = cr.off
		count, err := cr.readLong()
		if err == io.EOF {
			return
		}
		if err != nil {
			fail("read record count: %w", err)
			return
		}
		if count < 0 || count > maxRecords {
			fail("record count %d out of bounds (at most %d)", count, maxRecords)
			return
		}
		if p.fs.minBytes == 0 && count > zeroLimit-records {
			fail("record count %d brings the file to %d records, more than the %d a file may hold when its records encode to no bytes (%d field values in all)",
				count, records+count, zeroLimit, maxZeroByteValues)
			return
		}
		records += count
		size, err := cr.readLong()
		if err != nil {
			fail("read block size: %w", noEOF(err))
			return
		}
		if size < 0 || size > p.maxBlock {
			fail("block size %d out of bounds (at most %d)", size, p.maxBlock)
			return
		}
		if p.codec == CodecNull && count*int64(p.fs.minBytes) > size {
			fail("%d records cannot fit in %d bytes", count, size)
			return
		}
		var j *job
		select {
		case j = <-p.free:
		case <-p.ctx.Done():
			return
		}
		j.raw, err = cr.readN(j.raw[:0], size)
		if err != nil {
			p.free <- j
			fail("read block data: %w", err)
			return
		}
		var sync [syncLength]byte
		if err := cr.readFull(sync[:]); err != nil {
			p.free <- j
			fail("read sync marker: %w", err)
			return
		}
		if sync != p.sync {
			p.free <- j
			fail("sync marker mismatch")
			return
		}
		j.index, j.offset, j.count = index, start, count
		p.jobs <- j
	}
}

// worker is one decoding goroutine's state.
type worker struct {
	p    *pipeline
	sink audit.Sink
	dec  decompressor
	conv converter
	walk walker
	vals []rules.Value
	ev   *audit.Event
}

// Bounds of what a worker keeps for the next file: the buffers of a file
// of big blocks are left to the collector, as before.
const (
	maxKeptBytes  = 1 << 20
	maxKeptValues = 1 << 14
)

func (r *Reader) work(p *pipeline, sink audit.Sink) {
	w, _ := r.idle.Get().(*worker)
	if w == nil {
		w = &worker{ev: audit.NewEvent(p.fs.shape)}
	}
	// The decompressor keeps its codec state across files: flate and zstd
	// readers are reset for each block anyway. zstd's, used with
	// DecodeAll only, starts no goroutine, so one dropped by the pool
	// without Close leaks nothing.
	w.p, w.sink = p, sink
	w.dec.codec, w.dec.max = p.codec, p.maxBlock
	w.ev.Reset(p.fs.shape)
	for j := range p.jobs {
		w.block(j)
	}
	w.p, w.sink = nil, nil
	if cap(w.dec.buf) > maxKeptBytes {
		w.dec.buf = nil
	}
	if cap(w.vals) > maxKeptValues {
		w.vals, w.ev.Values = nil, nil
	}
	clear(w.vals[:cap(w.vals)]) // the last block's strings; w.ev.Values is a window of them
	r.idle.Put(w)
}

// block decodes one block and, once all earlier blocks decoded, emits it.
func (w *worker) block(j *job) {
	p := w.p
	// j goes back to the framing goroutine once released, so copy it.
	index, offset, count := j.index, j.offset, j.count
	held := true
	release := func() {
		if held {
			held = false
			p.free <- j
		}
	}
	fail := func(err error) { p.gate.fail(index, offset, err) }
	defer func() {
		if v := recover(); v != nil {
			fail(recovered{v})
		}
		release()
	}()
	if p.ctx.Err() != nil || p.gate.abandoned(index) {
		return
	}
	data, err := w.dec.decompress(j.raw)
	if err != nil {
		fail(err)
		return
	}
	if count*int64(p.fs.minBytes) > int64(len(data)) {
		fail(fmt.Errorf("%d records cannot fit in %d bytes", count, len(data)))
		return
	}
	nf := len(p.fs.shape.Fields())
	if count*int64(nf) <= p.staging {
		// Decode into staging, so that the buffers go back at once and the
		// events wait for their turn already made.
		vals := w.grow(int(count) * nf)
		if err := w.decode(data, count, vals, stage, index); err != nil {
			fail(err)
			return
		}
		release()
		if !p.gate.wait(p.ctx, index) || !w.countZero(index, offset) {
			return
		}
		p.gate.ok(index)
		for i := range count {
			w.emit(index, i, vals[int(i)*nf:int(i+1)*nf:int(i+1)*nf])
		}
		return
	}
	// Too big to stage: check first, then decode again and emit as we go.
	w.grow(nf)
	if err := w.decode(data, count, w.vals, check, index); err != nil {
		fail(err)
		return
	}
	if !p.gate.wait(p.ctx, index) || !w.countZero(index, offset) {
		return
	}
	p.gate.ok(index)
	if err := w.decode(data, count, w.vals, emit, index); err != nil {
		fail(err) // not reachable: the same bytes decoded a moment ago
	}
}

// countZero adds the block's array items of no bytes to the
// file's, once every earlier block is let out, so that which block fails
// does not depend on the workers, and reports whether the file stays within
// maxZeroByteValues.
func (w *worker) countZero(index, offset int64) bool {
	p := w.p
	p.zeroItems += w.walk.zero
	if p.zeroItems > maxZeroByteValues {
		p.gate.fail(index, offset, fmt.Errorf("array items that encode to no bytes bring the file to %d, more than the %d a file may hold",
			p.zeroItems, maxZeroByteValues))
		return false
	}
	return true
}

func (w *worker) grow(n int) []rules.Value {
	if cap(w.vals) < n {
		w.vals = make([]rules.Value, n)
	}
	w.vals = w.vals[:n]
	return w.vals
}

// What decode does with the records it decodes.
const (
	stage = iota // keep them all: record i at vals[i*nf:]
	check        // only check that they decode
	emit         // hand each to the sink as it comes
)

// decode decodes count records from data into vals.
func (w *worker) decode(data []byte, count int64, vals []rules.Value, mode int, block int64) error {
	fs := w.p.fs
	nf := len(fs.shape.Fields())
	w.walk.zero = 0
	for i := range count {
		if fs.walk {
			if _, err := w.walk.record(fs.root, data); err != nil {
				return fmt.Errorf("record %d: %w", i, err)
			}
		}
		out := vals[:nf]
		if mode == stage {
			out = vals[int(i)*nf : int(i+1)*nf]
		}
		for k, codec := range fs.fields {
			native, rest, err := codec.NativeFromBinary(data)
			if err != nil {
				return fmt.Errorf("record %d field %q: %w", i, fs.root.fields[k].name, err)
			}
			data = rest
			if err := w.conv.field(&fs.plan.fields[k], native, out); err != nil {
				return fmt.Errorf("record %d: %w", i, err)
			}
		}
		if mode == emit {
			w.emit(block, i, out)
		}
	}
	if len(data) != 0 {
		return fmt.Errorf("%d bytes left in block after its %d records", len(data), count)
	}
	return nil
}

func (w *worker) emit(block, record int64, vals []rules.Value) {
	w.ev.Values = vals
	w.ev.Pos = audit.Position{File: w.p.file, Block: block, Record: record}
	w.sink.Event(w.ev)
}

// gate lets a block's events out only after every earlier block decoded,
// and remembers the first block that failed.
type gate struct {
	mu      sync.Mutex
	next    int64 // blocks before next decoded
	failAt  int64 // first block that failed, or math.MaxInt64
	err     *audit.ReadError
	changed chan struct{}
}

func newGate() *gate {
	return &gate{failAt: math.MaxInt64, changed: make(chan struct{})}
}

func (g *gate) broadcast() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// fail records that block index, starting at offset, is bad.
func (g *gate) fail(index, offset int64, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if index < g.failAt {
		g.failAt = index
		g.err = &audit.ReadError{Offset: offset, Block: index, Err: err}
	}
	g.broadcast()
}

// abandoned reports whether a block before index failed.
func (g *gate) abandoned(index int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.failAt < index
}

// wait blocks until every block before index decoded, and reports false
// if instead one of them failed or ctx ended.
func (g *gate) wait(ctx context.Context, index int64) bool {
	for {
		g.mu.Lock()
		if g.failAt < index {
			g.mu.Unlock()
			return false
		}
		if g.next == index {
			g.mu.Unlock()
			return true
		}
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// ok records that block index decoded.
func (g *gate) ok(index int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next = index + 1
	g.broadcast()
}
