package audit

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A day of thousands of small files must not cost a file's worth of
// buffers each: at the scan's GOGC of 400 that garbage raised peak RSS
// with the number of files, 10,000 files of 20 events each peaking at
// 243-280 MB against 82 MB for 10 GB in 38 files.
func TestOpenFileRecyclesItsBuffer(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops pooled buffers at random")
	}
	path := filepath.Join(t.TempDir(), "small.log")
	text := "2024-03-19T00:00:00,1,GET /data/m/m1/1.mpg\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	const files = 50
	got := allocated(func() {
		for range files {
			r, closeFile, _, err := openFile(context.Background(), path, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if b, err := io.ReadAll(r); err != nil || string(b) != text {
				t.Fatalf("read %q, %v", b, err)
			}
			closeFile()
		}
	})
	if limit := uint64(files * (256 << 10) / 4); got > limit {
		t.Errorf("opening and reading %d small files allocated %d KiB, want at most %d KiB", files, got>>10, limit>>10)
	}
}

func TestUniqueKeysOfASmallFileStaySmall(t *testing.T) {
	if raceEnabled {
		// -race turns off the compiler's fusing of append(s, make(...)...)
		// in slices.Grow, so each growth allocates twice: always 800 KiB
		// here against the 700 KiB bound.
		t.Skip("the race detector doubles slices.Grow's allocations")
	}
	// A sink per decoding goroutine and file, per unique rule: a file
	// of a few events must not make each one a 1024-key buffer.
	const sinks = 100
	got := allocated(func() {
		for i := range sinks {
			u := newUniqueKeys(1<<20, 6)
			for j := range 10 {
				u.add([2]uint64{uint64(i), uint64(j)}, Position{Line: int64(j)}, 1)
			}
			u.close()
		}
	})
	if limit := uint64(sinks * 64 * keyRecSize * 2); got > limit {
		t.Errorf("%d buffers of 10 keys allocated %d KiB, want at most %d KiB", sinks, got>>10, limit>>10)
	}
}
