package audit

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// openFile opens path read-only and undoes the compression its extension
// names (.gz, .zst). read counts the compressed bytes taken from disk, for
// progress. The returned close releases everything. Cancelling ctx closes
// the file, so that a read blocked on a pipe or a slow mount returns.
func openFile(ctx context.Context, path string, read *atomic.Int64) (io.Reader, func() error, error) {
	f, err := os.Open(path) // read-only: inputs are never written
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	closeFile := func() error { stop(); return f.Close() }
	counted := bufio.NewReaderSize(&countingReader{r: f, n: read}, 256<<10)
	switch {
	case strings.HasSuffix(path, ".gz"):
		zr, err := gzip.NewReader(counted)
		if err != nil {
			closeFile()
			return nil, nil, &ReadError{Offset: 0, Block: -1, Err: fmt.Errorf("gzip: %w", err)}
		}
		return zr, func() error { zr.Close(); return closeFile() }, nil
	case strings.HasSuffix(path, ".zst"):
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
