package kafkalog

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

// fuzzMaxLine is small so that fuzzing reaches too_long.
const fuzzMaxLine = 256

var fuzzSeeds = []string{
	tWatch, tRate, tReco,
	"2024-03-17T10:05:01,7,recommendation request s1, status 0, result: java.net.SocketTimeoutException: Read timed out, 0 ms",
	"2024-03-17T10:05:01,7,recommendation request s1, status 200, result: , 5 ms",
	"2024-03-17T10:05:01.123456789,7,GET /rate/x=-1\r",
	"hello",                               // unknown_shape
	"2024-02-30T10:00:00,1,GET /rate/x=1", // bad_time
	"2024-01-01T10:00:00,1,GET /data/m/x/a.mpg",                                     // bad_minute
	"2024-01-01T10:00:00,1,GET /rate/x=five",                                        // bad_rating
	"2024-01-01T10:00:00,1,recommendation request s1, status OK, result: x, 5 ms",   // bad_status
	"2024-01-01T10:00:00,1,recommendation request s1, status 200, result: x, 5x ms", // bad_response_time
	"2024-01-01T10:00:00,1,GET /rate/x\xff=1",                                       // invalid_text
	"2024-01-01T10:00:00,1,GET /rate/x\x00=1",                                       // invalid_text
	strings.Repeat("long", fuzzMaxLine),                                             // too_long
	"\r\n\n" + tRate + "\n" + tWatch,
	"",
}

func FuzzKafkaLine(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	r := New(Options{Workers: 1, MaxLineBytes: fuzzMaxLine})
	f.Fuzz(func(t *testing.T, in string) {
		// The helpers must agree with their standard-library oracles.
		want := oracleTime(in)
		if got := validTime([]byte(in)); got != want {
			t.Errorf("validTime(%q) = %v, oracle says %v", in, got, want)
		}
		// The cache agrees too, after a time of the same minute or hour
		// (hits) and after another (a miss).
		if len(in) >= 16 {
			for _, prev := range []string{in[:16] + ":00", in[:13] + ":00:00", "2024-03-19T23:59:59"} {
				var c timeCache
				c.valid([]byte(prev))
				if got := c.valid([]byte(in)); got != want {
					t.Errorf("after %q, timeCache.valid(%q) = %v, oracle says %v", prev, in, got, want)
				}
			}
		}
		n, ok := parseInt([]byte(in))
		if ref, err := strconv.ParseInt(in, 10, 64); (err == nil) != ok || (ok && n != ref) {
			t.Errorf("parseInt(%q) = %d, %v; strconv says %d, %v", in, n, ok, ref, err)
		}

		got, _, err := readRecs(t, r, strings.NewReader(in))
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		lines := strings.Split(in, "\n")
		if strings.HasSuffix(in, "\n") {
			lines = lines[:len(lines)-1]
		}
		byLine := make(map[int64]rec, len(got))
		for _, g := range got {
			if g.Line < 1 || g.Line > int64(len(lines)) {
				t.Fatalf("record at line %d of %d: %v", g.Line, len(lines), g)
			}
			if _, dup := byLine[g.Line]; dup {
				t.Fatalf("two records at line %d", g.Line)
			}
			byLine[g.Line] = g
		}
		for i, ln := range lines {
			ln = strings.TrimSuffix(ln, "\r")
			g, found := byLine[int64(i+1)]
			if ln == "" {
				if found {
					t.Errorf("blank line %d gave %v", i+1, g)
				}
				continue
			}
			if !found {
				t.Fatalf("line %d %q gave nothing", i+1, ln)
			}
			checkLineRec(t, r, ln, g)
		}
	})
}

// checkLineRec checks the record of one non-blank line against oracles.
func checkLineRec(t *testing.T, r *Reader, ln string, g rec) {
	t.Helper()
	tooLong := len(ln) > fuzzMaxLine
	clean := utf8.ValidString(ln) && !strings.ContainsFunc(ln, unicode.IsControl)
	first, _, _ := strings.Cut(ln, ",")
	switch {
	case tooLong:
		if g.Reason != ReasonTooLong || g.Text != ln[:fuzzMaxLine] {
			t.Fatalf("line %q of %d bytes gave %v, want too_long", ln, len(ln), g)
		}
		return
	case g.Reason == ReasonTooLong:
		t.Fatalf("line %q of %d bytes is too_long", ln, len(ln))
	case !clean:
		if g.Reason != ReasonInvalidText {
			t.Fatalf("line %q gave %v, want invalid_text", ln, g)
		}
		return
	case g.Reason == ReasonInvalidText:
		t.Fatalf("clean line %q is invalid_text", ln)
	}
	if g.Reason != "" {
		if g.Text != ln {
			t.Errorf("malformed text %q, want the line %q", g.Text, ln)
		}
		switch g.Reason {
		case ReasonUnknownShape:
		case ReasonBadTime:
			if oracleTime(first) {
				t.Errorf("line %q: bad_time for a valid time", ln)
			}
		case ReasonBadMinute, ReasonBadRating, ReasonBadStatus, ReasonBadResponseTime:
			if !oracleTime(first) {
				t.Errorf("line %q: %s before its bad time", ln, g.Reason)
			}
		default:
			t.Errorf("line %q: unknown reason %q", ln, g.Reason)
		}
		return
	}

	// An event: check kinds against the shape and that the log line
	// rendered back from the event parses to the same event.
	var shape *rules.Shape
	for _, s := range r.Shapes() {
		if s.Event() == g.Event {
			shape = s
		}
	}
	if shape == nil || len(shape.Fields()) != len(g.Values) {
		t.Fatalf("event %v does not fit a shape", g)
	}
	for i, f := range shape.Fields() {
		v := g.Values[i]
		if v.Kind != f.Kind && !(v.IsNull() && f.Nullable) {
			t.Errorf("line %q: field %s is %s, want %s", ln, f.Name, v.Kind, f.Kind)
		}
		if !utf8.ValidString(v.Str) {
			t.Errorf("line %q: field %s is not UTF-8", ln, f.Name)
		}
	}
	tm, user := g.Values[0].Str, g.Values[1].Str
	if tm != first || !oracleTime(tm) || !strings.HasPrefix(ln, tm+","+user+",") || user == "" {
		t.Errorf("line %q: time %q, user %q", ln, tm, user)
	}
	var again string
	switch g.Event {
	case rules.MovieWatchEvent:
		again = tm + "," + user + ",GET /data/m/" + g.Values[2].Str + "/" + strconv.FormatInt(g.Values[3].Int, 10) + ".mpg"
	case rules.MovieRatingEvent:
		again = tm + "," + user + ",GET /rate/" + g.Values[2].Str + "=" + strconv.FormatInt(g.Values[3].Int, 10)
	case rules.RecommendationRequest:
		again = tm + "," + user + ",recommendation request " + g.Values[2].Str + ", status " + strconv.FormatInt(g.Values[3].Int, 10) +
			", result: " + g.Values[4].Str + ", " + strconv.FormatInt(g.Values[5].Int, 10) + " ms"
	}
	c := &collector{}
	newParser(r.shapes, c, g.File, r.maxLine*4).line([]byte(again), g.Line, true)
	if len(c.recs) != 1 || c.recs[0].String() != g.String() {
		t.Errorf("line %q gave %v; rendered back as %q it gives %v", ln, g, again, c.recs)
	}
}

// FuzzKafkaInput reads whole inputs with random workers, chunk sizes and
// line limits, whole and cut by a failing reader, against a line-by-line
// reference.
func FuzzKafkaInput(f *testing.F) {
	f.Add([]byte(strings.Join(fuzzSeeds, "\n")), uint8(1), uint16(7), uint16(100), uint16(50))
	f.Add([]byte("\r\n\n"+tRate+"\n"+strings.Repeat("x", 600)+"\n"+tWatch), uint8(3), uint16(1), uint16(60), uint16(300))
	f.Add([]byte(tReco+"\r\n"+tReco), uint8(0), uint16(200), uint16(299), uint16(0))
	errCut := errors.New("cut")
	f.Fuzz(func(t *testing.T, data []byte, workers uint8, chunk, maxLine, cut uint16) {
		r := New(Options{Workers: 1 + int(workers%4), ChunkBytes: 1 + int(chunk%512), MaxLineBytes: 1 + int(maxLine%300)})
		got, _, err := readRecs(t, r, strings.NewReader(string(data)))
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		eq := func(a, b rec) bool { return a.String() == b.String() }
		if want := referenceRecs(r, data); !slices.EqualFunc(got, want, eq) {
			t.Fatalf("got %v\nwant %v", got, want)
		}

		n := int(cut) % (len(data) + 1)
		got, _, err = readRecs(t, r, &failingReader{data: data, n: n, err: errCut})
		var re *audit.ReadError
		wantLine := int64(strings.Count(string(data[:n]), "\n") + 1)
		if !errors.As(err, &re) || !errors.Is(err, errCut) || re.Offset != int64(n) || re.Line != wantLine {
			t.Fatalf("cut at %d: err = %v, want offset %d line %d", n, err, n, wantLine)
		}
		complete := data[:strings.LastIndexByte(string(data[:n]), '\n')+1]
		if want := referenceRecs(r, complete); !slices.EqualFunc(got, want, eq) {
			t.Fatalf("cut at %d: got %v\nwant %v", n, got, want)
		}
	})
}
