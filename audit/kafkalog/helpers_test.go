package kafkalog

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

// rec is one thing a sink received: an event (Event set) or a malformed
// line (Reason set).
type rec struct {
	File   int32
	Line   int64
	Event  string
	Values []rules.Value
	Reason string
	Text   string
}

func (r rec) String() string {
	if r.Reason != "" {
		return fmt.Sprintf("%d:%d %s %q", r.File, r.Line, r.Reason, r.Text)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d:%d %s", r.File, r.Line, r.Event)
	for _, v := range r.Values {
		fmt.Fprintf(&b, " %s:%q", v.Kind, v.String())
	}
	return b.String()
}

func compareRecs(a, b rec) int {
	return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), strings.Compare(a.String(), b.String()))
}

// collector keeps copies of everything it receives.
type collector struct{ recs []rec }

func (c *collector) Event(e *audit.Event) {
	vals := make([]rules.Value, len(e.Values))
	for i, v := range e.Values {
		v.Str = strings.Clone(v.Str)
		vals[i] = v
	}
	c.recs = append(c.recs, rec{File: e.Pos.File, Line: e.Pos.Line, Event: e.Type(), Values: vals})
}

func (c *collector) Malformed(pos audit.Position, reason string, text []byte) {
	c.recs = append(c.recs, rec{File: pos.File, Line: pos.Line, Reason: reason, Text: string(text)})
}

// readRecs reads in with r and returns everything the sinks received,
// sorted, with the number of sinks made.
func readRecs(t testing.TB, r *Reader, in io.Reader) ([]rec, int, error) {
	t.Helper()
	var sinks []*collector
	_, err := r.Read(context.Background(), in, 3, func() audit.Sink {
		c := &collector{}
		sinks = append(sinks, c)
		return c
	})
	var all []rec
	for _, s := range sinks {
		all = append(all, s.recs...)
	}
	slices.SortFunc(all, compareRecs)
	return all, len(sinks), err
}

// referenceRecs parses data line by line without the feeder, as the
// oracle for how Read cuts its input.
func referenceRecs(r *Reader, data []byte) []rec {
	c := &collector{}
	p := newParser(r.shapes, c, 3, r.maxLine)
	lines := bytes.Split(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] == '\n' {
		lines = lines[:len(lines)-1]
	}
	for i, ln := range lines {
		p.line(ln, int64(i+1), oracleClean(ln))
	}
	slices.SortFunc(c.recs, compareRecs)
	return c.recs
}

func diffRecs(t testing.TB, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d records, want %d", len(got), len(want))
	}
	n := 0
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i].String()
		}
		if i < len(want) {
			w = want[i].String()
		}
		if g != w {
			t.Errorf("record %d:\n got  %.300s\n want %.300s", i, g, w)
			if n++; n == 10 {
				return
			}
		}
	}
}

// oracleClean is scanLine's text check written with the standard library:
// valid UTF-8 without control characters once a final CR is dropped.
func oracleClean(ln []byte) bool {
	ln = bytes.TrimSuffix(ln, []byte{'\r'})
	return utf8.Valid(ln) && !bytes.ContainsFunc(ln, unicode.IsControl)
}

// Expected records.

func watchRec(line int64, tm, user, movie string, minute int64) rec {
	return rec{File: 3, Line: line, Event: rules.MovieWatchEvent,
		Values: []rules.Value{rules.Str(tm), rules.Str(user), rules.Str(movie), rules.Int(minute)}}
}

func ratingRec(line int64, tm, user, movie string, rating int64) rec {
	return rec{File: 3, Line: line, Event: rules.MovieRatingEvent,
		Values: []rules.Value{rules.Str(tm), rules.Str(user), rules.Str(movie), rules.Int(rating)}}
}

func recoRec(line int64, tm, user, server string, status int64, result rules.Value, ms int64) rec {
	return rec{File: 3, Line: line, Event: rules.RecommendationRequest,
		Values: []rules.Value{rules.Str(tm), rules.Str(user), rules.Str(server), rules.Int(status), result, rules.Int(ms)}}
}

func badRec(line int64, reason, text string) rec {
	return rec{File: 3, Line: line, Reason: reason, Text: text}
}

// failingReader returns the bytes of data up to n, then err.
type failingReader struct {
	data []byte
	n    int
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	k := copy(p, f.data[:min(f.n, len(f.data))])
	f.data, f.n = f.data[k:], f.n-k
	if f.n <= 0 {
		return k, f.err
	}
	if k == 0 {
		return 0, io.EOF
	}
	return k, nil
}
