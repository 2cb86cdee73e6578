package audit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"

	"github.com/dqaudit/dqaudit/audit/store"
	"github.com/dqaudit/dqaudit/internal/gzmembers"
)

// openFile opens path (a local file read-only, or an object streamed) and
// undoes the compression its extension names (.gz, .zst). A .gz file goes
// through the program gz when it is set and starts; the returned
// *gunzipReader is then non-nil, and after reading the caller must check
// its Failed. read and total, either of which may be nil, count the
// compressed bytes taken from the store: the file's, and progress's. The
// returned close releases everything. Cancelling ctx makes a blocked read
// return (see store.Open) and stops the program.
func openFile(ctx context.Context, path string, read, total *atomic.Int64, gz *Gunzip) (io.Reader, func() error, *gunzipReader, error) {
	f, size, err := store.Open(ctx, path)
	if err != nil {
		return nil, nil, nil, err
	}
	cr := &countingReader{r: f, n: read, total: total}
	counted := getReader(cr)
	// closeFile recycles counted: only where no goroutine can still
	// read it once the file is closed.
	closeFile := func() error {
		err := f.Close()
		putReader(counted)
		return err
	}
	name := strings.ToLower(store.Name(path)) // events.log.GZ is gzip too
	switch {
	case strings.HasSuffix(name, ".gz"):
		// A named pipe cannot be read again by the built-in decoder when
		// the program's output is refused: it gets the built-in one.
		// A small file is quicker to inflate here than to start the
		// program for (see Gunzip.MinBytes).
		if gz != nil && !store.IsNamedPipe(path) && size >= gz.MinBytes {
			var gr *gunzipReader
			closeAll := closeFile
			if osf, ok := store.RegularFile(f); ok {
				gr, err = startGunzipFile(ctx, gz, osf, read, total)
			} else {
				// The program is fed from counted by a goroutine of
				// its own: the buffer is not recycled.
				gr, err = startGunzip(ctx, gz, counted)
				closeAll = f.Close
			}
			if err == nil {
				return gr, func() error { gr.Close(); return closeAll() }, gr, nil
			}
			// The program did not start: the built-in decoder reads.
		}
		zr, err := gzmembers.NewReader(counted, func() int64 { return cr.got - int64(counted.Buffered()) })
		if err != nil {
			closeFile()
			switch {
			case err == io.EOF:
				err = errors.New("gzip: empty file")
			case !strings.HasPrefix(err.Error(), "gzip: "): // klauspost's own errors say it
				err = fmt.Errorf("gzip: %w", err)
			}
			return nil, nil, nil, &ReadError{Offset: 0, Block: -1, Err: err}
		}
		return zr, func() error { zr.Close(); return closeFile() }, nil, nil
	case strings.HasSuffix(name, ".zst"):
		if _, err := counted.Peek(1); err == io.EOF {
			// The decoder reads no frame as an empty stream; an empty
			// file is not a zstd file (zstd -t refuses it), as for gzip.
			closeFile()
			return nil, nil, nil, &ReadError{Offset: 0, Block: -1, Err: errors.New("zstd: empty file")}
		}
		// The window is the history the decoder keeps, allocated for each
		// file read at once: zstd's own limit, not the 1 GiB a --long=29
		// file would take.
		zr, err := zstd.NewReader(counted, zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(1<<30), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			closeFile()
			return nil, nil, nil, &ReadError{Offset: 0, Block: -1, Err: fmt.Errorf("zstd: %w", err)}
		}
		return zstdReader{zr}, func() error { zr.Close(); return closeFile() }, nil, nil
	}
	return counted, closeFile, nil, nil
}

// maxZstdWindow is the largest zstd window read, the zstd command's own
// default limit (--memory=128MB): a file written with --long=28 or more
// is refused, as zstd -d refuses it.
const maxZstdWindow = 128 << 20

// zstdReader names the format in the decoder's errors, which do not
// ("invalid input: magic number mismatch").
type zstdReader struct{ r *zstd.Decoder }

func (z zstdReader) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	switch {
	case err == nil || err == io.EOF || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
	case errors.Is(err, zstd.ErrWindowSizeExceeded):
		err = fmt.Errorf("zstd: window size exceeded: the file needs more than %d MiB of history (written with --long=28 or more), which zstd -d refuses too", maxZstdWindow>>20)
	default:
		err = fmt.Errorf("zstd: %w", err)
	}
	return n, err
}

// readers recycles the buffers files are read through. A day of
// thousands of small files otherwise allocates 256 KiB a file, and that
// garbage, at the scan's GOGC of 400, raised peak RSS with the number of
// files (10,000 files of 20 events: 243-280 MB).
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readerBytes) }}

const readerBytes = 256 << 10

func getReader(r io.Reader) *bufio.Reader {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

func putReader(br *bufio.Reader) {
	br.Reset(nil)
	readers.Put(br)
}

type countingReader struct {
	r     io.Reader
	n     *atomic.Int64 // bytes read, or nil
	total *atomic.Int64 // progress's count, added to as well, or nil
	got   int64         // bytes read, for offsets in the file
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.got += int64(n)
	if c.n != nil {
		c.n.Add(int64(n))
	}
	if c.total != nil {
		c.total.Add(int64(n))
	}
	return n, err
}
