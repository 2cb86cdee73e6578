package audit

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/dqaudit/dqaudit/audit/store"
)

// openFile opens path (a local file read-only, or an object streamed) and
// undoes the compression its extension names (.gz, .zst). read counts the
// compressed bytes taken from the store, for progress. The returned close
// releases everything. Cancelling ctx makes a blocked read return (see
// store.Open).
func openFile(ctx context.Context, path string, read *atomic.Int64) (io.Reader, func() error, error) {
	f, _, err := store.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	closeFile := f.Close
	counted := bufio.NewReaderSize(&countingReader{r: f, n: read}, 256<<10)
	name := store.Name(path)
	switch {
	case strings.HasSuffix(name, ".gz"):
		zr, err := gzip.NewReader(counted)
		if err != nil {
			closeFile()
			return nil, nil, &ReadError{Offset: 0, Block: -1, Err: fmt.Errorf("gzip: %w", err)}
		}
		return zr, func() error { zr.Close(); return closeFile() }, nil
	case strings.HasSuffix(name, ".zst"):
		zr, err := zstd.NewReader(counted, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			closeFile()
			return nil, nil, &ReadError{Offset: 0, Block: -1, Err: fmt.Errorf("zstd: %w", err)}
		}
		return zr, func() error { zr.Close(); return closeFile() }, nil
	}
	return counted, closeFile, nil
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n != nil {
		c.n.Add(int64(n))
	}
	return n, err
}
