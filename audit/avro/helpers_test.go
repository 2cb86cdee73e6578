package avro

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

// rec is one delivered event, copied out of the sink call.
type rec struct {
	Pos   audit.Position
	Event string
	Vals  []rules.Value
}

func (r rec) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d/%d %s", r.Pos.File, r.Pos.Block, r.Pos.Record, r.Event)
	for _, v := range r.Vals {
		fmt.Fprintf(&b, " %s:%s", v.Kind, v)
	}
	return b.String()
}

// collector makes sinks that copy every event; it also counts sinks.
type collector struct {
	mu    sync.Mutex
	sinks []*sliceSink
}

type sliceSink struct {
	recs      []rec
	malformed int
}

func (s *sliceSink) Event(e *audit.Event) {
	s.recs = append(s.recs, rec{Pos: e.Pos, Event: e.Type(), Vals: slices.Clone(e.Values)})
}

func (s *sliceSink) Malformed(audit.Position, string, []byte) { s.malformed++ }

func (c *collector) newSink() audit.Sink {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &sliceSink{}
	c.sinks = append(c.sinks, s)
	return s
}

// all returns every event in position order.
func (c *collector) all() []rec {
	var out []rec
	for _, s := range c.sinks {
		out = append(out, s.recs...)
	}
	slices.SortFunc(out, func(a, b rec) int {
		switch {
		case a.Pos.Less(b.Pos):
			return -1
		case b.Pos.Less(a.Pos):
			return 1
		}
		return 0
	})
	return out
}

// read reads data with r and returns the info, events and error.
func read(t testing.TB, r *Reader, data []byte) (audit.FileInfo, []rec, error) {
	t.Helper()
	var c collector
	info, err := r.Read(context.Background(), bytes.NewReader(data), 7, c.newSink)
	return info, c.all(), err
}

func mustRead(t testing.TB, r *Reader, data []byte) (audit.FileInfo, []rec) {
	t.Helper()
	info, recs, err := read(t, r, data)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return info, recs
}

// writeFile writes records with the package's Writer.
func writeFile(t testing.TB, schema, codec string, perBlock int, records []map[string]any) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, schema, codec, perBlock)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const watchSchema = `{"type":"record","name":"MovieWatchEvent","fields":[
 {"name":"time","type":"string"},{"name":"userId","type":"string"},
 {"name":"movieId","type":"string"},{"name":"minute","type":"int"}]}`

func watchRecords(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{
			"time":    fmt.Sprintf("2024-03-19T10:%02d:%02d", i/60%60, i%60),
			"userId":  fmt.Sprint(100000 + i*7919%900000),
			"movieId": fmt.Sprintf("movie+%d+%d", i%97, 1950+i%70),
			"minute":  int32(i % 181),
		}
	}
	return out
}

func sameRecs(t *testing.T, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if g, w := got[i].String(), want[i].String(); g != w {
			t.Fatalf("event %d:\n got %s\nwant %s", i, g, w)
		}
	}
}
