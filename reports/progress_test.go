package reports

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
)

// lockedBuffer is a writer that the progress goroutine and the test may
// use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestProgressRedrawsAndClears(t *testing.T) {
	p := &audit.Progress{FilesTotal: 10, BytesTotal: 10 << 20}
	p.FilesDone.Store(3)
	p.BytesRead.Store(5 << 20)
	p.Events.Store(120_000)

	var w lockedBuffer
	stop := StartProgress(&w, p, 5*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(w.String(), "3/10 files") {
		if time.Now().After(deadline) {
			t.Fatalf("no progress line after 5s; got %q", w.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.FilesDone.Store(4)
	for !strings.Contains(w.String(), "4/10 files") {
		if time.Now().After(deadline) {
			t.Fatalf("the line was not redrawn; got %q", w.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	out := w.String()

	for _, want := range []string{"\rscanning 3/10 files", "5.0 MiB/10.0 MiB 50%", "events/s", "ETA "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q: %q", want, out)
		}
	}
	if strings.Contains(out, "\n") {
		t.Errorf("progress wrote a newline: %q", out)
	}
	// The last write blanks the widest line drawn and returns the cursor.
	i := strings.LastIndex(strings.TrimSuffix(out, "\r"), "\r")
	if i < 0 {
		t.Fatalf("no clearing at the end: %q", out)
	}
	blank := out[i+1 : len(out)-1]
	if !strings.HasSuffix(out, "\r") || strings.Trim(blank, " ") != "" || len(blank) < len("scanning 4/10 files") {
		t.Errorf("stop did not clear the line; output ends %q", out[max(0, len(out)-120):])
	}

	stop() // idempotent
	time.Sleep(20 * time.Millisecond)
	if w.String() != out {
		t.Error("output changed after stop")
	}
}

func TestProgressStopBeforeFirstDraw(t *testing.T) {
	var w lockedBuffer
	stop := StartProgress(&w, &audit.Progress{}, time.Hour)
	stop()
	stop()
	if got := w.String(); got != "" {
		t.Errorf("stop before any draw wrote %q", got)
	}
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		name                string
		files, filesTotal   int64
		read, total, events int64
		elapsed             time.Duration
		want                string
	}{
		{"half way", 3, 10, 5 << 20, 10 << 20, 1_200_000, 10 * time.Second,
			"scanning 3/10 files · 5.0 MiB/10.0 MiB 50% · 120k events/s · ETA 10s"},
		{"nothing read yet", 0, 4, 0, 1 << 30, 0, time.Second,
			"scanning 0/4 files · 0 B/1.0 GiB 0% · 0 events/s · ETA –"},
		{"long way to go", 1, 100, 1 << 30, 100 << 30, 5_000_000, time.Minute,
			"scanning 1/100 files · 1.0 GiB/100.0 GiB 1% · 83.3k events/s · ETA 1h39m"},
		{"done", 2, 2, 2048, 2048, 10, time.Second,
			"scanning 2/2 files · 2.0 KiB/2.0 KiB 100% · 10 events/s · ETA 0s"},
		{"no total known", 0, 0, 0, 0, 0, 0,
			"scanning 0/0 files · 0 B/0 B · ETA –"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &audit.Progress{FilesTotal: int(tc.filesTotal), BytesTotal: tc.total}
			p.FilesDone.Store(tc.files)
			p.BytesRead.Store(tc.read)
			p.Events.Store(tc.events)
			if got := progressLine(p, tc.elapsed); got != tc.want {
				t.Errorf("progressLine =\n%q, want\n%q", got, tc.want)
			}
		})
	}
}
