package kafkalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

// readConfigs are the worker counts and chunk sizes every table case runs
// with; all must give the same records.
var readConfigs = []struct {
	workers, chunk int
}{
	{workers: 1},
	{workers: 2},
	{workers: 1, chunk: 5},
	{workers: 2, chunk: 7},
	{workers: 3, chunk: 64},
	{workers: 8, chunk: 1},
}

const (
	tWatch = "2024-03-17T10:04:59,42,GET /data/m/the+green+mile+1999/17.mpg"
	tRate  = "2024-03-17T10:05:00,7,GET /rate/inception+2010=5"
	tReco  = "2024-03-17T10:05:01.123,7,recommendation request 17645-team20.isri.cmu.edu:8082, status 200, result: the+matrix+1999, up+2009, inception+2010, 213 ms"
)

func TestRead(t *testing.T) {
	const srv = "17645-team20.isri.cmu.edu:8082"
	long := "2024-03-17T10:05:01,9,recommendation request s1:8082, status 200, result: " + strings.Repeat("the+lord+of+the+rings+2001, ", 500_000/28) + "up+2009, 99 ms"
	tests := []struct {
		name    string
		maxLine int
		in      string
		want    []rec
	}{
		{name: "empty input", in: ""},
		{name: "only blank lines", in: "\n\r\n\n"},
		{
			name: "byte order mark at the start",
			in:   "\ufeff" + tRate + "\r\n\ufeff" + tRate + "\n",
			want: []rec{
				ratingRec(1, "2024-03-17T10:05:00", "7", "inception+2010", 5),
				badRec(2, ReasonBadTime, "\ufeff"+tRate),
			},
		},
		{
			name: "watch",
			in:   tWatch + "\n",
			want: []rec{watchRec(1, "2024-03-17T10:04:59", "42", "the+green+mile+1999", 17)},
		},
		{
			name: "rating",
			in:   tRate + "\n",
			want: []rec{ratingRec(1, "2024-03-17T10:05:00", "7", "inception+2010", 5)},
		},
		{
			name: "recommendation list",
			in:   tReco + "\n",
			want: []rec{recoRec(1, "2024-03-17T10:05:01.123", "7", srv, 200, rules.Str("the+matrix+1999, up+2009, inception+2010"), 213)},
		},
		{
			name: "recommendation error text",
			in:   "2024-03-17T10:05:01,7,recommendation request " + srv + ", status 0, result: java.net.SocketTimeoutException: Read timed out, 0 ms\n",
			want: []rec{recoRec(1, "2024-03-17T10:05:01", "7", srv, 0, rules.Str("java.net.SocketTimeoutException: Read timed out"), 0)},
		},
		{
			name: "recommendation empty result is null",
			in: "2024-03-17T10:05:01,7,recommendation request s1, status 200, result: , 5 ms\n" +
				"2024-03-17T10:05:01,7,recommendation request s1, status 200, result:, 6 ms\n",
			want: []rec{
				recoRec(1, "2024-03-17T10:05:01", "7", "s1", 200, rules.Null(), 5),
				recoRec(2, "2024-03-17T10:05:01", "7", "s1", 200, rules.Null(), 6),
			},
		},
		{
			name: "negative numbers are events",
			in: "2024-03-17T10:04:59,42,GET /data/m/up+2009/-3.mpg\n" +
				"2024-03-17T10:04:59,42,GET /rate/up+2009=-1\n" +
				"2024-03-17T10:04:59,42,recommendation request s1, status -200, result: up+2009, -5 ms\n",
			want: []rec{
				watchRec(1, "2024-03-17T10:04:59", "42", "up+2009", -3),
				ratingRec(2, "2024-03-17T10:04:59", "42", "up+2009", -1),
				recoRec(3, "2024-03-17T10:04:59", "42", "s1", -200, rules.Str("up+2009"), -5),
			},
		},
		{
			name: "non-ASCII movie id and user",
			in:   "2024-03-17T10:04:59,jürgen,GET /rate/amélie+2001=4\n",
			want: []rec{ratingRec(1, "2024-03-17T10:04:59", "jürgen", "amélie+2001", 4)},
		},
		{
			name: "fractions of 1 to 9 digits",
			in: "2024-03-17T10:04:59.1,1,GET /rate/x=1\n2024-03-17T10:04:59.12,1,GET /rate/x=1\n" +
				"2024-03-17T10:04:59.123,1,GET /rate/x=1\n2024-03-17T10:04:59.1234,1,GET /rate/x=1\n" +
				"2024-03-17T10:04:59.12345,1,GET /rate/x=1\n2024-03-17T10:04:59.123456,1,GET /rate/x=1\n" +
				"2024-03-17T10:04:59.1234567,1,GET /rate/x=1\n2024-03-17T10:04:59.12345678,1,GET /rate/x=1\n" +
				"2024-03-17T10:04:59.123456789,1,GET /rate/x=1\n2024-03-17T10:04:59.1234567890,1,GET /rate/x=1\n",
			want: []rec{
				ratingRec(1, "2024-03-17T10:04:59.1", "1", "x", 1),
				ratingRec(2, "2024-03-17T10:04:59.12", "1", "x", 1),
				ratingRec(3, "2024-03-17T10:04:59.123", "1", "x", 1),
				ratingRec(4, "2024-03-17T10:04:59.1234", "1", "x", 1),
				ratingRec(5, "2024-03-17T10:04:59.12345", "1", "x", 1),
				ratingRec(6, "2024-03-17T10:04:59.123456", "1", "x", 1),
				ratingRec(7, "2024-03-17T10:04:59.1234567", "1", "x", 1),
				ratingRec(8, "2024-03-17T10:04:59.12345678", "1", "x", 1),
				ratingRec(9, "2024-03-17T10:04:59.123456789", "1", "x", 1),
				badRec(10, ReasonBadTime, "2024-03-17T10:04:59.1234567890,1,GET /rate/x=1"),
			},
		},
		{
			name: "bad times",
			in: "2024-13-01T10:00:00,1,GET /rate/x=1\n2024-02-30T10:00:00,1,GET /rate/x=1\n" +
				"2024-01-01T10:00,1,GET /rate/x=1\n2023-02-29T10:00:00,1,GET /data/m/x/1.mpg\n" +
				",1,GET /rate/x=1\n",
			want: []rec{
				badRec(1, ReasonBadTime, "2024-13-01T10:00:00,1,GET /rate/x=1"),
				badRec(2, ReasonBadTime, "2024-02-30T10:00:00,1,GET /rate/x=1"),
				badRec(3, ReasonBadTime, "2024-01-01T10:00,1,GET /rate/x=1"),
				badRec(4, ReasonBadTime, "2023-02-29T10:00:00,1,GET /data/m/x/1.mpg"),
				badRec(5, ReasonBadTime, ",1,GET /rate/x=1"),
			},
		},
		{
			name: "unknown shapes",
			in: "hello\n" +
				"2024-01-01T10:00:00,1,POST /rate/x=1\n" +
				"2024-01-01T10:00:00,,GET /rate/x=1\n" +
				"2024-01-01T10:00:00,1,GET /rate/=1\n" +
				"2024-01-01T10:00:00,1,GET /rate/x\n" +
				"2024-01-01T10:00:00,1,GET /data/m/x/1.mp4\n" +
				"2024-01-01T10:00:00,1,GET /data/m/a/b/1.mpg\n" +
				"2024-01-01T10:00:00,1,GET /data/m/1.mpg\n" +
				"2024-01-01T10:00:00,1,recommendation request s1, status 200, result: x, 5\n" +
				"2024-01-01T10:00:00,1,recommendation request s1, status 200 result: x, 5 ms\n" +
				"2024-01-01T10:00:00,1,recommendation request , status 200, result: x, 5 ms\n" +
				"garbage,1,foo\n",
			want: []rec{
				badRec(1, ReasonUnknownShape, "hello"),
				badRec(2, ReasonUnknownShape, "2024-01-01T10:00:00,1,POST /rate/x=1"),
				badRec(3, ReasonUnknownShape, "2024-01-01T10:00:00,,GET /rate/x=1"),
				badRec(4, ReasonUnknownShape, "2024-01-01T10:00:00,1,GET /rate/=1"),
				badRec(5, ReasonUnknownShape, "2024-01-01T10:00:00,1,GET /rate/x"),
				badRec(6, ReasonUnknownShape, "2024-01-01T10:00:00,1,GET /data/m/x/1.mp4"),
				badRec(7, ReasonUnknownShape, "2024-01-01T10:00:00,1,GET /data/m/a/b/1.mpg"),
				badRec(8, ReasonUnknownShape, "2024-01-01T10:00:00,1,GET /data/m/1.mpg"),
				badRec(9, ReasonUnknownShape, "2024-01-01T10:00:00,1,recommendation request s1, status 200, result: x, 5"),
				badRec(10, ReasonUnknownShape, "2024-01-01T10:00:00,1,recommendation request s1, status 200 result: x, 5 ms"),
				badRec(11, ReasonUnknownShape, "2024-01-01T10:00:00,1,recommendation request , status 200, result: x, 5 ms"),
				badRec(12, ReasonUnknownShape, "garbage,1,foo"),
			},
		},
		{
			name: "bad numbers",
			in: "2024-01-01T10:00:00,1,GET /data/m/x/twelve.mpg\n" +
				"2024-01-01T10:00:00,1,GET /data/m/x/.mpg\n" +
				"2024-01-01T10:00:00,1,GET /data/m/x/9223372036854775808.mpg\n" +
				"2024-01-01T10:00:00,1,GET /rate/x=five\n" +
				"2024-01-01T10:00:00,1,GET /rate/x=\n" +
				"2024-01-01T10:00:00,1,GET /rate/x=4=4\n" +
				"2024-01-01T10:00:00,1,recommendation request s1, status OK, result: x, 5 ms\n" +
				"2024-01-01T10:00:00,1,recommendation request s1, status 200, result: x, fast ms\n" +
				"2024-01-01T10:00:00,1,recommendation request s1, status 200, result: x, 5  ms\n" +
				"2024-01-01T10:00:00,1,recommendation request s1, status OK, result: x, fast ms\n" +
				"2024-02-30T10:00:00,1,GET /rate/x=five\n",
			want: []rec{
				badRec(1, ReasonBadMinute, "2024-01-01T10:00:00,1,GET /data/m/x/twelve.mpg"),
				badRec(2, ReasonBadMinute, "2024-01-01T10:00:00,1,GET /data/m/x/.mpg"),
				badRec(3, ReasonBadMinute, "2024-01-01T10:00:00,1,GET /data/m/x/9223372036854775808.mpg"),
				badRec(4, ReasonBadRating, "2024-01-01T10:00:00,1,GET /rate/x=five"),
				badRec(5, ReasonBadRating, "2024-01-01T10:00:00,1,GET /rate/x="),
				badRec(6, ReasonBadRating, "2024-01-01T10:00:00,1,GET /rate/x=4=4"),
				badRec(7, ReasonBadStatus, "2024-01-01T10:00:00,1,recommendation request s1, status OK, result: x, 5 ms"),
				badRec(8, ReasonBadResponseTime, "2024-01-01T10:00:00,1,recommendation request s1, status 200, result: x, fast ms"),
				badRec(9, ReasonBadResponseTime, "2024-01-01T10:00:00,1,recommendation request s1, status 200, result: x, 5  ms"),
				badRec(10, ReasonBadStatus, "2024-01-01T10:00:00,1,recommendation request s1, status OK, result: x, fast ms"),
				badRec(11, ReasonBadTime, "2024-02-30T10:00:00,1,GET /rate/x=five"),
			},
		},
		{
			name: "invalid text",
			in: "2024-01-01T10:00:00,1,GET /rate/x\xff=1\n" +
				"2024-01-01T10:00:00,1,GET /rate/x\x00=1\n" +
				"2024-01-01T10:00:00,1\t,GET /rate/x=1\n" +
				"\x00\n" +
				"2024-01-01T10:00:00,1,GET /rate/x=1\r\r\n" +
				"2024-01-01T10:00:00,1,GET /rate/\u0085x=1\n",
			want: []rec{
				badRec(1, ReasonInvalidText, "2024-01-01T10:00:00,1,GET /rate/x\xff=1"),
				badRec(2, ReasonInvalidText, "2024-01-01T10:00:00,1,GET /rate/x\x00=1"),
				badRec(3, ReasonInvalidText, "2024-01-01T10:00:00,1\t,GET /rate/x=1"),
				badRec(4, ReasonInvalidText, "\x00"),
				badRec(5, ReasonInvalidText, "2024-01-01T10:00:00,1,GET /rate/x=1\r"),
				badRec(6, ReasonInvalidText, "2024-01-01T10:00:00,1,GET /rate/\u0085x=1"),
			},
		},
		{
			name: "CRLF and blank lines",
			in:   "\r\n" + tRate + "\r\n\n\r\n" + tWatch + "\r\n\r\n",
			want: []rec{
				ratingRec(2, "2024-03-17T10:05:00", "7", "inception+2010", 5),
				watchRec(5, "2024-03-17T10:04:59", "42", "the+green+mile+1999", 17),
			},
		},
		{
			name: "last line without newline",
			in:   tRate + "\n" + tWatch,
			want: []rec{
				ratingRec(1, "2024-03-17T10:05:00", "7", "inception+2010", 5),
				watchRec(2, "2024-03-17T10:04:59", "42", "the+green+mile+1999", 17),
			},
		},
		{
			name: "last line without newline but CR",
			in:   tRate + "\r",
			want: []rec{ratingRec(1, "2024-03-17T10:05:00", "7", "inception+2010", 5)},
		},
		{
			name: "500 KB recommendation line",
			in:   tRate + "\n" + long + "\n" + tRate + "\n",
			want: []rec{
				ratingRec(1, "2024-03-17T10:05:00", "7", "inception+2010", 5),
				recoRec(2, "2024-03-17T10:05:01", "9", "s1:8082", 200, rules.Str(long[len("2024-03-17T10:05:01,9,recommendation request s1:8082, status 200, result: "):len(long)-len(", 99 ms")]), 99),
				ratingRec(3, "2024-03-17T10:05:00", "7", "inception+2010", 5),
			},
		},
		{
			name:    "lines over MaxLineBytes",
			maxLine: 48,
			in: tRate + "\n" + strings.Repeat("a", 49) + "\n" + tWatch + "\n" + tRate + "\n" +
				strings.Repeat("b", 1000) + "\r\n\n" + strings.Repeat("\x00", 300) + "\n" + tRate + "\n" + strings.Repeat("c", 5000),
			want: []rec{
				ratingRec(1, "2024-03-17T10:05:00", "7", "inception+2010", 5),
				badRec(2, ReasonTooLong, strings.Repeat("a", 48)),
				badRec(3, ReasonTooLong, tWatch[:48]),
				ratingRec(4, "2024-03-17T10:05:00", "7", "inception+2010", 5),
				badRec(5, ReasonTooLong, strings.Repeat("b", 48)),
				badRec(7, ReasonTooLong, strings.Repeat("\x00", 48)),
				ratingRec(8, "2024-03-17T10:05:00", "7", "inception+2010", 5),
				badRec(9, ReasonTooLong, strings.Repeat("c", 48)),
			},
		},
		{
			name:    "too-long prefix is capped",
			maxLine: 4000,
			in:      strings.Repeat("d", 4001) + "\n" + tRate,
			want: []rec{
				badRec(1, ReasonTooLong, strings.Repeat("d", maxTooLongText)),
				ratingRec(2, "2024-03-17T10:05:00", "7", "inception+2010", 5),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, cfg := range readConfigs {
				t.Run(fmt.Sprintf("workers=%d,chunk=%d", cfg.workers, cfg.chunk), func(t *testing.T) {
					r := New(Options{Workers: cfg.workers, ChunkBytes: cfg.chunk, MaxLineBytes: tc.maxLine})
					got, _, err := readRecs(t, r, strings.NewReader(tc.in))
					if err != nil {
						t.Fatalf("Read: %v", err)
					}
					diffRecs(t, got, tc.want)
				})
			}
		})
	}
}

// TestMaxLineBoundary checks lines of exactly MaxLineBytes, with and
// without CR, against the feeder's cut at MaxLineBytes+2.
func TestMaxLineBoundary(t *testing.T) {
	const maxLine = 40
	fit := "2024-03-17T10:04:59,1,GET /rate/ab=12345" // 40 bytes
	if len(fit) != maxLine {
		t.Fatalf("test line is %d bytes", len(fit))
	}
	over := fit + "6"
	tests := []struct {
		name string
		in   string
		want []rec
	}{
		{name: "exactly max", in: fit + "\n" + fit, want: []rec{ratingRec(1, fit[:19], "1", "ab", 12345), ratingRec(2, fit[:19], "1", "ab", 12345)}},
		{name: "exactly max with CR", in: fit + "\r\n" + fit + "\r", want: []rec{ratingRec(1, fit[:19], "1", "ab", 12345), ratingRec(2, fit[:19], "1", "ab", 12345)}},
		{name: "one over", in: over + "\n" + over, want: []rec{badRec(1, ReasonTooLong, fit), badRec(2, ReasonTooLong, fit)}},
		{name: "one over with CR", in: over + "\r\n" + over + "\r", want: []rec{badRec(1, ReasonTooLong, fit), badRec(2, ReasonTooLong, fit)}},
		{name: "max plus CR CR", in: fit + "\r\r\n" + fit, want: []rec{badRec(1, ReasonTooLong, fit), ratingRec(2, fit[:19], "1", "ab", 12345)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{1, 2, 39, 40, 41, 42, 43, 80, 1 << 20} {
				for _, workers := range []int{1, 2} {
					r := New(Options{Workers: workers, ChunkBytes: chunk, MaxLineBytes: maxLine})
					got, _, err := readRecs(t, r, strings.NewReader(tc.in))
					if err != nil {
						t.Fatalf("chunk %d: Read: %v", chunk, err)
					}
					if !slices.EqualFunc(got, tc.want, func(a, b rec) bool { return a.String() == b.String() }) {
						t.Errorf("chunk %d, workers %d: got %v, want %v", chunk, workers, got, tc.want)
					}
				}
			}
		})
	}
}

// TestReaders checks that how the input arrives does not matter.
func TestReaders(t *testing.T) {
	g := newGenerator(2, 300, 5)
	data, _ := g.generate(3000)
	r := New(Options{Workers: 2, ChunkBytes: 512, MaxLineBytes: 300})
	want := referenceRecs(r, data)
	tests := []struct {
		name string
		in   io.Reader
	}{
		{name: "one byte", in: iotest.OneByteReader(bytes.NewReader(data))},
		{name: "half", in: iotest.HalfReader(bytes.NewReader(data))},
		{name: "data with EOF", in: iotest.DataErrReader(bytes.NewReader(data))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := readRecs(t, r, tc.in)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			diffRecs(t, got, want)
		})
	}
}

func TestReadError(t *testing.T) {
	errBroken := errors.New("gzip: invalid checksum")
	input := "\n" + tWatch + "\n" + tRate + "\r\n\n" + strings.Repeat("z", 300) + "\n" + tReco + "\n" + tRate
	tests := []struct {
		name    string
		workers int
		chunk   int
	}{
		{name: "serial", workers: 1},
		{name: "serial small chunks", workers: 1, chunk: 16},
		{name: "parallel", workers: 2},
		{name: "parallel small chunks", workers: 3, chunk: 16},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := New(Options{Workers: tc.workers, ChunkBytes: tc.chunk, MaxLineBytes: 200})
			for n := 0; n <= len(input); n++ {
				got, _, err := readRecs(t, r, &failingReader{data: []byte(input), n: n, err: errBroken})
				var re *audit.ReadError
				if !errors.As(err, &re) {
					t.Fatalf("n=%d: err = %v, want a *audit.ReadError", n, err)
				}
				wantLine := int64(strings.Count(input[:n], "\n") + 1)
				if re.Offset != int64(n) || re.Line != wantLine || re.Block != -1 || !errors.Is(err, errBroken) {
					t.Fatalf("n=%d: err = %+v, want offset %d, line %d, block -1, %v", n, re, n, wantLine, errBroken)
				}
				complete := input[:strings.LastIndexByte(input[:n], '\n')+1]
				want := referenceRecs(r, []byte(complete))
				if !slices.EqualFunc(got, want, func(a, b rec) bool { return a.String() == b.String() }) {
					t.Fatalf("n=%d: got %v, want the complete lines' %v", n, got, want)
				}
			}
		})
	}
}

func TestDeterminism(t *testing.T) {
	const maxLine = 2000
	g := newGenerator(3, maxLine, 8)
	data, want := g.generate(300_000)
	tests := []struct {
		name    string
		workers int
		chunk   int
	}{
		{name: "workers=1", workers: 1},
		{name: "workers=2", workers: 2},
		{name: "workers=3", workers: 3},
		{name: "workers=8", workers: 8},
		{name: "workers=3 odd chunks", workers: 3, chunk: 4093},
		{name: "workers=2 chunks below max line", workers: 2, chunk: 1500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := New(Options{Workers: tc.workers, ChunkBytes: tc.chunk, MaxLineBytes: maxLine})
			var sinks []*hashSink
			_, err := r.Read(context.Background(), bytes.NewReader(data), 3, func() audit.Sink {
				s := &hashSink{}
				sinks = append(sinks, s)
				return s
			})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(sinks) > tc.workers {
				t.Errorf("made %d sinks for %d workers", len(sinks), tc.workers)
			}
			var got []keyed
			for _, s := range sinks {
				got = append(got, s.got...)
			}
			slices.SortFunc(got, compareKeyed)
			if len(got) != len(want) {
				t.Errorf("got %d records, want %d", len(got), len(want))
			}
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("record %d: got line %d hash %x, want line %d hash %x", i, got[i].Line, got[i].Hash, want[i].Line, want[i].Hash)
				}
			}
		})
	}
}

func TestSinks(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		workers   int
		wantSinks int
	}{
		{name: "empty file makes no sink", in: "", workers: 4, wantSinks: 0},
		{name: "small file makes one sink", in: tRate + "\n" + tWatch + "\n", workers: 4, wantSinks: 1},
		{name: "serial makes one sink", in: tRate + "\n", workers: 1, wantSinks: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, sinks, err := readRecs(t, New(Options{Workers: tc.workers}), strings.NewReader(tc.in))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if sinks != tc.wantSinks {
				t.Errorf("made %d sinks, want %d", sinks, tc.wantSinks)
			}
		})
	}
}

// endless is an input of valid lines that never ends.
type endless struct{ off int }

func (e *endless) Read(p []byte) (int, error) {
	const line = tReco + "\n"
	n := 0
	for n < len(p) {
		k := copy(p[n:], line[e.off:])
		n += k
		e.off = (e.off + k) % len(line)
	}
	return n, nil
}

// waitGoroutines fails the test if the number of goroutines does not come
// back to base.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left running, want %d", runtime.NumGoroutine(), base)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cancelSink cancels its context after n events.
type cancelSink struct {
	n      int
	cancel context.CancelFunc
}

func (s *cancelSink) Event(*audit.Event) {
	if s.n--; s.n == 0 {
		s.cancel()
	}
}
func (s *cancelSink) Malformed(audit.Position, string, []byte) {}

func TestCancel(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		bySink  bool
	}{
		{name: "serial, timer", workers: 1},
		{name: "parallel, timer", workers: 2},
		{name: "many workers, timer", workers: 8},
		{name: "serial, from the sink", workers: 1, bySink: true},
		{name: "parallel, from the sink", workers: 2, bySink: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if !tc.bySink {
				time.AfterFunc(30*time.Millisecond, cancel)
			}
			start := time.Now()
			_, err := New(Options{Workers: tc.workers}).Read(ctx, &endless{}, 0, func() audit.Sink {
				if tc.bySink {
					return &cancelSink{n: 1000, cancel: cancel}
				}
				return &countSink{}
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Read took %v after cancel", d)
			}
			waitGoroutines(t, base)
		})
	}
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		made := 0
		_, err := New(Options{}).Read(ctx, strings.NewReader(tRate), 0, func() audit.Sink { made++; return &countSink{} })
		if !errors.Is(err, context.Canceled) || made != 0 {
			t.Errorf("err = %v and %d sinks, want context.Canceled and none", err, made)
		}
	})
}

// panicSink panics at the given line.
type panicSink struct {
	line  int64
	value any
}

func (s *panicSink) Event(e *audit.Event) {
	if e.Pos.Line == s.line {
		panic(s.value)
	}
}
func (s *panicSink) Malformed(audit.Position, string, []byte) {}

func TestSinkPanic(t *testing.T) {
	errBoom := errors.New("boom")
	g := newGenerator(4, 1000, 0)
	data, _ := g.generate(200_000)
	tests := []struct {
		name    string
		workers int
		value   any
		wantErr string
	}{
		{name: "serial string", workers: 1, value: "boom", wantErr: "panic: boom"},
		{name: "parallel string", workers: 2, value: "boom", wantErr: "panic: boom"},
		{name: "parallel error", workers: 4, value: errBoom, wantErr: "panic: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			_, err := New(Options{Workers: tc.workers, ChunkBytes: 4096}).Read(context.Background(), bytes.NewReader(data), 0, func() audit.Sink {
				return &panicSink{line: 150_000, value: tc.value}
			})
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if e, ok := tc.value.(error); ok && !errors.Is(err, e) {
				t.Errorf("err = %v does not wrap %v", err, e)
			}
			waitGoroutines(t, base)
		})
	}
}

// repeatReader yields n copies of a pattern without holding them.
type repeatReader struct {
	pattern []byte
	n       int64
	off     int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:], r.pattern[r.off:])
		k += c
		if r.off += c; r.off == len(r.pattern) {
			r.off = 0
			r.n--
		}
	}
	return k, nil
}

// TestHugeLineIsNotBuffered streams a 64 MiB line and checks that memory
// stays near MaxLineBytes, not the line's size.
func TestHugeLineIsNotBuffered(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			in := io.MultiReader(
				strings.NewReader(tRate+"\n"),
				&repeatReader{pattern: bytes.Repeat([]byte("the+matrix+1999, "), 1024), n: 64 << 20 / (17 * 1024)},
				strings.NewReader("\n"+tWatch+"\n"),
			)
			r := New(Options{Workers: workers, ChunkBytes: 64 << 10, MaxLineBytes: 256 << 10})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got, _, err := readRecs(t, r, in)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			want := []rec{
				ratingRec(1, "2024-03-17T10:05:00", "7", "inception+2010", 5),
				badRec(2, ReasonTooLong, strings.Repeat("the+matrix+1999, ", 100)[:maxTooLongText]),
				watchRec(3, "2024-03-17T10:04:59", "42", "the+green+mile+1999", 17),
			}
			diffRecs(t, got, want)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("reading a 64 MiB line allocated %d bytes, want under 8 MiB", alloc)
			}
		})
	}
}

// TestReadAllocs checks that allocation does not grow with the input.
func TestReadAllocs(t *testing.T) {
	g := newGenerator(5, 4096, 10)
	data, _ := g.generate(100_000)
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			r := New(Options{Workers: workers, ChunkBytes: 64 << 10, MaxLineBytes: 4096})
			allocs := testing.AllocsPerRun(3, func() {
				if _, err := r.Read(context.Background(), bytes.NewReader(data), 0, func() audit.Sink { return &countSink{} }); err != nil {
					t.Fatal(err)
				}
			})
			// Per file: sinks, parsers, events, channels, goroutines and
			// a few buffers; nothing per line.
			if perLine := allocs / float64(g.line); perLine > 0.01 {
				t.Errorf("%v allocations for %d lines (%.4f per line)", allocs, g.line, perLine)
			}
		})
	}
}

// stuckReader returns data, then reads that return nothing, or too much.
type stuckReader struct {
	data     string
	overflow bool
}

func (s *stuckReader) Read(p []byte) (int, error) {
	if s.data != "" {
		n := copy(p, s.data)
		s.data = s.data[n:]
		return n, nil
	}
	if s.overflow {
		return len(p) + 1, nil
	}
	return 0, nil
}

func TestBrokenReaders(t *testing.T) {
	in := tRate + "\n" + tWatch + "\n" + tRate[:10]
	tests := []struct {
		name     string
		overflow bool
		wantErr  string
	}{
		{name: "no progress", wantErr: io.ErrNoProgress.Error()},
		{name: "invalid count", overflow: true, wantErr: "kafkalog: reader returned an invalid count"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, workers := range []int{1, 2} {
				got, _, err := readRecs(t, New(Options{Workers: workers}), &stuckReader{data: in, overflow: tc.overflow})
				var re *audit.ReadError
				if !errors.As(err, &re) || re.Err.Error() != tc.wantErr || re.Offset != int64(len(in)) || re.Line != 3 {
					t.Fatalf("workers %d: err = %#v, want a ReadError at offset %d line 3: %s", workers, err, len(in), tc.wantErr)
				}
				want := []rec{
					ratingRec(1, "2024-03-17T10:05:00", "7", "inception+2010", 5),
					watchRec(2, "2024-03-17T10:04:59", "42", "the+green+mile+1999", 17),
				}
				diffRecs(t, got, want)
			}
		})
	}
}
