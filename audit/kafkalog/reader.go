package kafkalog

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"sync"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

// Defaults for the zero Options.
const (
	DefaultMaxLineBytes = 4 << 20
	DefaultChunkBytes   = 1 << 20
)

// maxOption caps MaxLineBytes and ChunkBytes so that sizes derived from
// them cannot overflow.
const maxOption = 1 << 30

// Options tunes a Reader. Zero values mean defaults.
type Options struct {
	// Workers is the number of goroutines that parse a file's chunks;
	// default runtime.GOMAXPROCS(0). With 1 the calling goroutine parses.
	Workers int
	// MaxLineBytes is the longest line kept, without its line end; longer
	// lines are malformed (too_long) and skipped without being buffered
	// whole. Default DefaultMaxLineBytes, at most 1 GiB.
	MaxLineBytes int
	// ChunkBytes is the size of the blocks of lines handed to workers;
	// default DefaultChunkBytes, at most 1 GiB.
	ChunkBytes int
}

// Reader reads Kafka text logs. It is safe for concurrent use by several
// scans of different files and must not be copied after first use.
type Reader struct {
	workers    int
	maxLine    int
	chunkBytes int
	shapes     *shapes
	bufs       sync.Pool // *[]byte chunk buffers, reused across files
}

var _ audit.Reader = (*Reader)(nil)

// New returns a Reader with the given options.
func New(opts Options) *Reader {
	r := &Reader{
		workers:    opts.Workers,
		maxLine:    opts.MaxLineBytes,
		chunkBytes: opts.ChunkBytes,
		shapes:     newShapes(),
	}
	if r.workers <= 0 {
		r.workers = runtime.GOMAXPROCS(0)
	}
	if r.maxLine <= 0 {
		r.maxLine = DefaultMaxLineBytes
	}
	if r.chunkBytes <= 0 {
		r.chunkBytes = DefaultChunkBytes
	}
	r.maxLine, r.chunkBytes = min(r.maxLine, maxOption), min(r.chunkBytes, maxOption)
	return r
}

// Shapes returns the shapes of the events the reader makes, in the order
// MovieWatchEvent, MovieRatingEvent, RecommendationRequest. They are the
// same for every file the reader reads.
func (r *Reader) Shapes() []*rules.Shape {
	return []*rules.Shape{r.shapes.watch, r.shapes.rating, r.shapes.rec}
}

// Read reads one decompressed log from in and hands its events and
// malformed lines to sinks made by newSink, stamped with file. It calls
// newSink lazily, from the calling goroutine, at most once per worker, and
// not at all for an empty file. The set of events and malformed lines is
// the same whatever the number of workers.
//
// When in fails, Read returns a *audit.ReadError whose Offset is the number
// of bytes read and whose Line is the line being read; every complete line
// before it has been handed over. When ctx is cancelled, Read returns
// ctx.Err(). A panic of a sink is returned as an error "panic: ...".
func (r *Reader) Read(ctx context.Context, in io.Reader, file int32, newSink func() audit.Sink) (audit.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return audit.FileInfo{}, err
	}
	f := &feeder{ctx: ctx, in: in, chunkBytes: r.chunkBytes, maxLine: r.maxLine, line: 1}
	var err error
	if r.workers == 1 {
		err = r.readSerial(f, file, newSink)
	} else {
		err = r.readParallel(f, file, newSink)
	}
	if err == nil {
		err = ctx.Err() // chunks may have been dropped after a late cancel
	}
	return audit.FileInfo{}, err
}

// readSerial parses in the calling goroutine, alternating two buffers.
func (r *Reader) readSerial(f *feeder, file int32, newSink func() audit.Sink) error {
	var p *parser
	var spare []byte
	f.get = func(n int) ([]byte, error) {
		b := spare
		spare = nil
		if cap(b) < n {
			r.putBuf(b)
			b = r.getBuf(n)
		}
		return b[:cap(b)], nil
	}
	f.put = func(b []byte) {
		if b != nil {
			r.putBuf(spare)
			spare = b
		}
	}
	f.emit = func(c chunk) (int64, error) {
		if p == nil {
			p = newParser(r.shapes, newSink(), file, r.maxLine)
		}
		lines, err := p.run(c) // the parser counts the lines as it goes
		f.put(c.buf)
		return lines, err
	}
	err := f.run()
	r.putBuf(spare)
	return err
}

// errStopped stops the feeder when a worker failed; Read returns the
// worker's error instead.
var errStopped = errors.New("kafkalog: stopped")

// readParallel reads chunks in the calling goroutine and parses them in up
// to r.workers goroutines, started as the backlog grows.
func (r *Reader) readParallel(f *feeder, file int32, newSink func() audit.Sink) error {
	nbuf := r.workers + 3 // one per worker, one queued, the feeder's current and next
	free := make(chan []byte, nbuf)
	work := make(chan chunk, 1)
	failed := make(chan struct{})
	var (
		wg        sync.WaitGroup
		failOnce  sync.Once
		failErr   error
		allocated int
		started   int
	)
	put := func(b []byte) {
		if b != nil {
			free <- b // never blocks: at most nbuf buffers exist
		}
	}
	f.put = put
	f.get = func(n int) ([]byte, error) {
		var b []byte
		select {
		case b = <-free:
		default:
			if allocated < nbuf {
				allocated++
				return r.getBuf(n), nil
			}
			select {
			case b = <-free:
			case <-f.ctx.Done():
				return nil, f.ctx.Err()
			case <-failed:
				return nil, errStopped
			}
		}
		if cap(b) < n {
			r.putBuf(b)
			b = r.getBuf(n)
		}
		return b[:cap(b)], nil
	}
	worker := func(p *parser) {
		defer wg.Done()
		for c := range work {
			select {
			case <-failed:
			case <-f.ctx.Done():
			default:
				if _, err := p.run(c); err != nil {
					failOnce.Do(func() { failErr = err; close(failed) })
				}
			}
			put(c.buf)
		}
	}
	start := func() {
		p := newParser(r.shapes, newSink(), file, r.maxLine)
		started++
		wg.Add(1)
		go worker(p)
	}
	f.emit = func(c chunk) (int64, error) {
		lines := int64(bytes.Count(c.data, []byte{'\n'})) // before a worker has the buffer
		if started == 0 {
			start()
		}
		select {
		case work <- c:
			return lines, nil
		default:
		}
		if started < r.workers {
			start()
		}
		select {
		case work <- c:
			return lines, nil
		case <-f.ctx.Done():
			put(c.buf)
			return 0, f.ctx.Err()
		case <-failed:
			put(c.buf)
			return 0, errStopped
		}
	}

	err := func() error {
		// Workers must exit on every path, a panicking in.Read included.
		defer wg.Wait()
		defer close(work)
		return f.run()
	}()
	for range len(free) {
		r.putBuf(<-free)
	}
	if failErr != nil {
		return failErr
	}
	return err
}

func (r *Reader) getBuf(n int) []byte {
	if bp, ok := r.bufs.Get().(*[]byte); ok && cap(*bp) >= n {
		return (*bp)[:cap(*bp)]
	}
	return make([]byte, max(n, r.chunkBytes))
}

func (r *Reader) putBuf(b []byte) {
	if b != nil {
		r.bufs.Put(&b)
	}
}

// chunk is a run of whole lines, or the prefix of one too-long line.
type chunk struct {
	buf     []byte // the buffer to recycle, nil if none
	data    []byte // the lines; the last may lack its newline at the end of the file
	line    int64  // the number of data's first line
	tooLong bool   // data is the prefix of line line, which is too long
}

// feeder cuts the input into chunks of whole lines and knows each chunk's
// first line number.
type feeder struct {
	ctx        context.Context
	in         io.Reader
	chunkBytes int
	maxLine    int

	get func(n int) ([]byte, error) // a buffer of at least n bytes
	put func(b []byte)              // a buffer no longer needed
	// emit hands c and its buffer over, even on error, and returns the
	// number of lines in c.data.
	emit func(c chunk) (int64, error)

	line     int64 // the number of the next line to cut
	consumed int64 // bytes read from in
	err      error // in's error, sticky
	empty    int   // reads in a row that returned nothing
}

// run feeds chunks until the end of the input, an error, or cancellation.
func (f *feeder) run() error {
	buf, err := f.get(f.chunkBytes)
	if err != nil {
		return err
	}
	n := 0 // bytes in buf, all of them part of lines from f.line on
	for {
		if err := f.ctx.Err(); err != nil {
			f.put(buf)
			return err
		}
		m, rerr := f.fill(buf[n:])
		n += m
		data := buf[:n]
		if rerr == io.EOF {
			if n == 0 {
				f.put(buf)
				return nil
			}
			_, err := f.emit(chunk{buf: buf, data: data, line: f.line})
			return err
		}
		cut := bytes.LastIndexByte(data, '\n') + 1
		if rerr != nil {
			if cut == 0 {
				f.put(buf)
			} else {
				lines, err := f.emit(chunk{buf: buf, data: data[:cut], line: f.line})
				if err != nil {
					return err
				}
				f.line += lines
			}
			return &audit.ReadError{Offset: f.consumed, Block: -1, Line: f.line, Err: rerr}
		}
		if cut == 0 { // buf is full of one line's start
			if n >= f.maxLine+2 { // too long even without "\r\n"
				if n, err = f.skip(buf); err != nil {
					return err
				}
				continue
			}
			grown := make([]byte, min(2*n, f.maxLine+2))
			copy(grown, data)
			buf = grown
			continue
		}
		tail := data[cut:]
		next, err := f.get(max(f.chunkBytes, 2*len(tail)))
		if err != nil {
			f.put(buf)
			return err
		}
		copy(next, tail)
		lines, err := f.emit(chunk{buf: buf, data: data[:cut], line: f.line})
		if err != nil {
			f.put(next)
			return err
		}
		f.line += lines
		buf, n = next, len(tail)
	}
}

// skip discards the too-long line at the start of the full buffer buf,
// emits its prefix as a too_long record, and returns how many bytes of the
// following lines it left at the start of buf. When the input fails before
// the line ends, the line is not emitted and the next fill reports the
// error.
func (f *feeder) skip(buf []byte) (int, error) {
	prefix := bytes.Clone(buf[:min(f.maxLine, maxTooLongText)])
	for {
		if err := f.ctx.Err(); err != nil {
			f.put(buf)
			return 0, err
		}
		m, rerr := f.fill(buf)
		i := bytes.IndexByte(buf[:m], '\n')
		if i < 0 && rerr != io.EOF {
			if rerr != nil {
				return 0, nil
			}
			continue
		}
		if _, err := f.emit(chunk{data: prefix, line: f.line, tooLong: true}); err != nil {
			f.put(buf)
			return 0, err
		}
		f.line++
		if i < 0 {
			return 0, nil // at EOF
		}
		return copy(buf, buf[i+1:m]), nil
	}
}

// fill reads into b until it is full or in fails; the error is kept and
// returned by later calls.
func (f *feeder) fill(b []byte) (int, error) {
	n := 0
	for n < len(b) && f.err == nil {
		m, err := f.in.Read(b[n:])
		if m < 0 || m > len(b)-n {
			f.err = errors.New("kafkalog: reader returned an invalid count")
			break
		}
		n += m
		f.consumed += int64(m)
		switch {
		case err != nil:
			f.err = err
		case m > 0:
			f.empty = 0
		default:
			if f.empty++; f.empty >= 100 {
				f.err = io.ErrNoProgress
			}
		}
	}
	return n, f.err
}
