package audit

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/rules"
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

// shapePerFile reads each file as one event of a shape of its own, as the
// Avro reader does for writer schemas it does not cache.
type shapePerFile struct{}

func (shapePerFile) Read(_ context.Context, _ io.Reader, file int32, newSink func() Sink) (FileInfo, error) {
	s := rules.NewShape("Line", []rules.Field{{Name: "text", Kind: rules.KindString}})
	e := NewEvent(s)
	e.Values[0], e.Pos = rules.Str(fmt.Sprint(file)), Position{File: file}
	newSink().Event(e)
	return FileInfo{Schemas: []WriterSchema{{Event: s.Event(), Fields: s.Fields(), Shape: s}}}, nil
}

// TestKeptSinksForgetShapes: a worker's sinks, kept from file to file,
// profile and evaluate each shape they see in a plan of their own; when
// every file has a shape of its own, they are replaced before they hold
// more than maxKeptShapes, and what they counted is kept.
func TestKeptSinksForgetShapes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lines")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := rules.Parse(strings.NewReader("version: 1\ninputs: [{name: x, format: kafka-log, paths: [x.log]}]\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	book, err := rules.Compile(cfg, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	const files = 3*maxKeptShapes + 7
	plan := &Plan{Date: "2024-03-19"}
	for range files {
		plan.Files = append(plan.Files, PlannedFile{Input: "x", Format: "lines", Path: path})
	}
	sc := newScanConfig(book, Options{Workers: 1}, plan.Date)
	w := &fileWorker{cfg: sc, acc: newAccumulator(sc)}
	for i := range files {
		if fr, _ := w.scanFile(context.Background(), plan, i, shapePerFile{}); fr.Events != 1 || fr.Err != "" {
			t.Fatalf("file %d: %+v", i, fr)
		}
		if len(w.shapes) > maxKeptShapes {
			t.Fatalf("after %d files the kept sinks hold %d shapes, want at most %d", i+1, len(w.shapes), maxKeptShapes)
		}
	}
	for _, s := range w.sinks {
		w.acc.merge(s)
	}
	if got := w.acc.dayProfile().Events["Line"]; got == nil || got.Count != files {
		t.Errorf("profile: %+v, want %d events", got, files)
	}
}
