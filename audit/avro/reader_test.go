package avro

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
)

// multiset counts events by their text (position and values).
func multiset(recs []rec) map[string]int {
	m := map[string]int{}
	for _, r := range recs {
		m[r.String()]++
	}
	return m
}

func sameMultiset(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestWorkerCountDeterminism(t *testing.T) {
	const blocks, perBlock = 40, 50
	file := writeFile(t, watchSchema, CodecDeflate, perBlock, watchRecords(blocks*perBlock))
	_, spans := layout(t, file)
	// Block 20 claims one record more than it holds: a worker finds out
	// while other workers decode the blocks around it.
	bad := reframe(file, spans[20], spans[20].count+1, int64(spans[20].end-spans[20].data))
	tests := []struct {
		name       string
		file       []byte
		wantEvents int
		wantBlock  int64
	}{
		{"good", file, blocks * perBlock, -2},
		{"fault in block 20", bad, 20 * perBlock, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var first map[string]int
			for _, workers := range []int{1, 2, 4, 1, 2, 4, 3, 8} {
				for range 3 {
					r := &Reader{Workers: workers, staging: 1 + workers%2*1000} // both staging paths
					_, recs, err := read(t, r, tc.file)
					if tc.wantBlock == -2 && err != nil {
						t.Fatal(err)
					}
					if tc.wantBlock >= 0 {
						var re *audit.ReadError
						if !errors.As(err, &re) || re.Block != tc.wantBlock {
							t.Fatalf("workers=%d: got %v, want block %d", workers, err, tc.wantBlock)
						}
					}
					if len(recs) != tc.wantEvents {
						t.Fatalf("workers=%d: %d events, want %d", workers, len(recs), tc.wantEvents)
					}
					ms := multiset(recs)
					if first == nil {
						first = ms
					} else if !sameMultiset(first, ms) {
						t.Fatalf("workers=%d: events differ", workers)
					}
				}
			}
		})
	}
}

// TestUnstagedBlocks checks blocks too big to stage: decoded twice, and
// nothing of a bad one emitted.
func TestUnstagedBlocks(t *testing.T) {
	file := writeFile(t, watchSchema, CodecSnappy, 300, watchRecords(900))
	_, want := mustRead(t, New(), file)
	_, got := mustRead(t, &Reader{Workers: 2, staging: 100}, file)
	sameRecs(t, got, want)

	_, spans := layout(t, file)
	bad := append(bytes.Clone(file[:spans[2].data]), file[spans[2].data:spans[2].end-1]...) // cut block 2's CRC
	bad = reframe(bad, spans[2], spans[2].count, int64(spans[2].end-spans[2].data-1))
	bad = append(bad, file[spans[2].end:]...)
	_, got, err := read(t, &Reader{Workers: 2, staging: 100}, bad)
	var re *audit.ReadError
	if !errors.As(err, &re) || re.Block != 2 {
		t.Fatalf("got %v", err)
	}
	sameRecs(t, got, before(want, 2))
}

// waitGoroutines waits for the goroutine count to fall back to n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, want %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type funcSink struct {
	event func(e *audit.Event)
}

func (s funcSink) Event(e *audit.Event)                     { s.event(e) }
func (s funcSink) Malformed(audit.Position, string, []byte) {}

func TestCancel(t *testing.T) {
	file := writeFile(t, watchSchema, CodecNull, 100, watchRecords(20000))
	for _, workers := range []int{1, 2, 4} {
		base := runtime.NumGoroutine()
		ctx, cancel := context.WithCancel(context.Background())
		var seen [8]int
		n := 0
		newSink := func() audit.Sink {
			i := n
			n++
			return funcSink{func(*audit.Event) {
				if seen[i]++; seen[i] == 250 {
					cancel()
				}
			}}
		}
		_, err := (&Reader{Workers: workers}).Read(ctx, bytes.NewReader(file), 0, newSink)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("workers=%d: got %v", workers, err)
		}
		total := 0
		for _, s := range seen {
			total += s
		}
		if total > 250*workers+100*(workers+2) {
			t.Errorf("workers=%d: %d events after cancel", workers, total)
		}
		waitGoroutines(t, base)
	}
	// A context ended before the call reads nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Read(ctx, bytes.NewReader(file), 0, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestSinkPanic(t *testing.T) {
	file := writeFile(t, watchSchema, CodecZstandard, 100, watchRecords(1000))
	for _, workers := range []int{1, 3} {
		base := runtime.NumGoroutine()
		newSink := func() audit.Sink {
			return funcSink{func(e *audit.Event) {
				if e.Pos.Block == 4 && e.Pos.Record == 10 {
					panic("sink bug")
				}
			}}
		}
		_, err := (&Reader{Workers: workers}).Read(context.Background(), bytes.NewReader(file), 0, newSink)
		var re *audit.ReadError
		if !errors.As(err, &re) || re.Block != 4 || !strings.Contains(err.Error(), "panic: sink bug") {
			t.Fatalf("workers=%d: got %v", workers, err)
		}
		waitGoroutines(t, base)
	}
}

// errReader fails after n bytes.
type errReader struct {
	r io.Reader
	n int
}

func (e *errReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, errors.New("disk on fire")
	}
	p = p[:min(len(p), e.n)]
	n, err := e.r.Read(p)
	e.n -= n
	return n, err
}

func TestInputError(t *testing.T) {
	file := writeFile(t, watchSchema, CodecNull, 100, watchRecords(1000))
	_, spans := layout(t, file)
	_, want := mustRead(t, New(), file)
	var c collector
	_, err := New().Read(context.Background(), &errReader{r: bytes.NewReader(file), n: spans[5].data + 10}, 7, c.newSink)
	var re *audit.ReadError
	if !errors.As(err, &re) || re.Block != 5 || re.Offset != int64(spans[5].start) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("got %v", err)
	}
	sameRecs(t, c.all(), before(want, 5))
}
