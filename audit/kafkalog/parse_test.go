package kafkalog

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

func TestValidTime(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "plain", in: "2024-03-17T10:04:59", want: true},
		{name: "midnight", in: "2024-01-01T00:00:00", want: true},
		{name: "last second of year", in: "1999-12-31T23:59:59", want: true},
		{name: "year zero", in: "0000-01-01T00:00:00", want: true},
		{name: "leap day", in: "2024-02-29T12:00:00", want: true},
		{name: "leap day of 2000", in: "2000-02-29T12:00:00", want: true},
		{name: "leap day of 1900", in: "1900-02-29T12:00:00", want: false},
		{name: "leap day of 2023", in: "2023-02-29T12:00:00", want: false},
		{name: "feb 30", in: "2024-02-30T12:00:00", want: false},
		{name: "apr 31", in: "2024-04-31T12:00:00", want: false},
		{name: "dec 31", in: "2024-12-31T12:00:00", want: true},
		{name: "day zero", in: "2024-01-00T12:00:00", want: false},
		{name: "month 13", in: "2024-13-01T12:00:00", want: false},
		{name: "month zero", in: "2024-00-01T12:00:00", want: false},
		{name: "hour 24", in: "2024-01-01T24:00:00", want: false},
		{name: "minute 60", in: "2024-01-01T10:60:00", want: false},
		{name: "second 60", in: "2024-01-01T10:00:60", want: false},
		{name: "missing seconds", in: "2024-01-01T10:00", want: false},
		{name: "date only", in: "2024-01-01", want: false},
		{name: "space for T", in: "2024-01-01 10:00:00", want: false},
		{name: "lowercase t", in: "2024-01-01t10:00:00", want: false},
		{name: "zone Z", in: "2024-01-01T10:00:00Z", want: false},
		{name: "offset", in: "2024-01-01T10:00:00+01:00", want: false},
		{name: "one-digit hour", in: "2024-01-01T1:00:00", want: false},
		{name: "letter in year", in: "2O24-01-01T10:00:00", want: false},
		{name: "signed month", in: "2024-+1-01T10:00:00", want: false},
		{name: "trailing dot", in: "2024-01-01T10:00:00.", want: false},
		{name: "comma fraction", in: "2024-01-01T10:00:00,5", want: false},
		{name: "fraction 10 digits", in: "2024-01-01T10:00:00.0123456789", want: false},
		{name: "fraction with letter", in: "2024-01-01T10:00:00.12a", want: false},
		{name: "empty", in: "", want: false},
	}
	for k := 1; k <= 9; k++ {
		tests = append(tests, struct {
			name string
			in   string
			want bool
		}{name: "fraction " + strconv.Itoa(k) + " digits", in: "2024-01-01T10:00:00." + "987654321"[:k], want: true})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := validTime([]byte(tc.in)); got != tc.want {
				t.Errorf("validTime(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if got := oracleTime(tc.in); got != tc.want {
				t.Errorf("oracle(%q) = %v, want %v (the test's oracle disagrees)", tc.in, got, tc.want)
			}
		})
	}
}

// oracleTime is validTime written with time.Parse, for tests and fuzzing.
func oracleTime(s string) bool {
	if len(s) < 19 || s[13] != ':' || s[16] != ':' {
		return false // time.Parse takes one-digit hours
	}
	if len(s) > 19 && (s[19] != '.' || len(s) < 21 || len(s) > 29) {
		return false // time.Parse takes "," and any number of digits
	}
	_, err := time.Parse("2006-01-02T15:04:05", s)
	return err == nil
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   int64
		wantOK bool
	}{
		{name: "zero", in: "0", want: 0, wantOK: true},
		{name: "minute", in: "17", want: 17, wantOK: true},
		{name: "negative", in: "-3", want: -3, wantOK: true},
		{name: "plus", in: "+3", want: 3, wantOK: true},
		{name: "minus zero", in: "-0", want: 0, wantOK: true},
		{name: "leading zeros", in: "000000000000000000000042", want: 42, wantOK: true},
		{name: "max", in: "9223372036854775807", want: math.MaxInt64, wantOK: true},
		{name: "min", in: "-9223372036854775808", want: math.MinInt64, wantOK: true},
		{name: "max plus one", in: "9223372036854775808", wantOK: false},
		{name: "min minus one", in: "-9223372036854775809", wantOK: false},
		{name: "twenty digits", in: "18446744073709551616", wantOK: false},
		{name: "empty", in: "", wantOK: false},
		{name: "sign only", in: "-", wantOK: false},
		{name: "two signs", in: "--1", wantOK: false},
		{name: "space", in: " 1", wantOK: false},
		{name: "trailing space", in: "1 ", wantOK: false},
		{name: "letters", in: "12a", wantOK: false},
		{name: "float", in: "1.5", wantOK: false},
		{name: "underscore", in: "1_000", wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseInt([]byte(tc.in))
			if ok != tc.wantOK || (ok && got != tc.want) {
				t.Errorf("parseInt(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
			ref, err := strconv.ParseInt(tc.in, 10, 64)
			if (err == nil) != ok || (ok && ref != got) {
				t.Errorf("parseInt(%q) = %d, %v; strconv says %d, %v", tc.in, got, ok, ref, err)
			}
		})
	}
}

// TestScanLineFindsEveryByte puts each kind of byte a line must not hold
// at every place in lines of 1 to 100 bytes, so that each width scanLine
// takes (32 bytes, 8, and single bytes at the end) meets it.
func TestScanLineFindsEveryByte(t *testing.T) {
	bad := []string{"\x00", "\x1f", "\x7f", "\r", "\t", "\xff", "\xc3", "\u0085"}
	for n := 1; n <= 100; n++ {
		for i := range n {
			for _, b := range bad {
				ln := strings.Repeat("a", i) + b + strings.Repeat("z", n-i-1)
				in := []byte(ln + "\nnext")
				end, clean := scanLine(in)
				wantClean := oracleClean([]byte(ln))
				if end != len(ln) || clean != wantClean {
					t.Fatalf("scanLine(%q) = %d, %v; want %d, %v", in, end, clean, len(ln), wantClean)
				}
			}
			ln := strings.Repeat("a", n) + "\r"
			if end, clean := scanLine([]byte(ln + "\n")); end != len(ln) || !clean {
				t.Fatalf("scanLine(%q) = %d, %v; want %d, true (a final CR is part of the line end)", ln+"\n", end, clean, len(ln))
			}
		}
	}
}

// TestPrintable holds printable and printableWords to a byte-by-byte
// answer (checkPrintable).
func TestPrintable(t *testing.T) {
	checkPrintable(t, "printable", printable)
	checkPrintable(t, "printableWords", printableWords)
}

// checkPrintable holds f, a version of printable, to a byte-by-byte
// answer, with each byte value at each place of inputs of 0 to 150 bytes,
// and bytes outside printable ASCII at each place of inputs of up to 400,
// so that every block width meets them at every offset.
func checkPrintable(t *testing.T, name string, f func([]byte) int) {
	t.Helper()
	want := func(b []byte) int {
		for i, c := range b {
			if c < 0x20 || c > 0x7e {
				return i
			}
		}
		return len(b)
	}
	check := func(in []byte) {
		t.Helper()
		if got, w := f(in), want(in); got != w {
			t.Fatalf("%s(%q) = %d, want %d", name, in, got, w)
		}
	}
	buf := make([]byte, 0, 400)
	for n := 0; n <= 150; n++ {
		base := buf[:n]
		for i := range base {
			base[i] = "abc~ !"[i%6]
		}
		check(base)
		for i := range n {
			for c := range 256 {
				saved := base[i]
				base[i] = byte(c)
				check(base)
				base[i] = saved
			}
		}
	}
	for n := 151; n <= cap(buf); n++ {
		base := buf[:n]
		for i := range base {
			base[i] = "abc~ !"[i%6]
		}
		check(base)
		for i := range n {
			for _, c := range []byte{0x00, '\n', 0x1f, 0x7f, 0x80, 0xff} {
				saved := base[i]
				base[i] = c
				check(base)
				base[i] = saved
			}
		}
	}
	// A special byte after a long printable run, as in a recommendation.
	long := bytes.Repeat([]byte("the+green+mile+1999, "), 100)
	check(long)
	for _, at := range []int{0, 1, 15, 16, 63, 64, 65, 127, 128, 129, len(long) - 2, len(long) - 1} {
		in := bytes.Clone(long)
		in[at] = 0x80
		check(in)
	}
}

// TestLinesFindsEveryByte is TestScanLineFindsEveryByte through the
// reader: a run of clean lines, then one with a bad byte at each place
// (or a CR before its newline), then clean lines again, so that lines'
// run-at-a-time check meets the bad byte at every offset of its blocks.
func TestLinesFindsEveryByte(t *testing.T) {
	r := New(Options{Workers: 1})
	bad := []string{"\x00", "\x1f", "\x7f", "\r", "\t", "\xff", "\xc3", "\u0085", "\u00e9", "\r\r"}
	for pre := range 3 {
		for n := 1; n <= 70; n++ {
			for i := range n {
				for _, b := range bad {
					ln := strings.Repeat("a", i) + b + strings.Repeat("z", n-i-1)
					if ln == "\r" {
						continue // a blank CRLF line
					}
					in := strings.Repeat(tRate+"\n", pre) + ln + "\n" + tWatch + "\r\n" + tRate
					got, _, err := readRecs(t, r, strings.NewReader(in))
					if err != nil {
						t.Fatal(err)
					}
					wantReason := ReasonUnknownShape
					if !oracleClean([]byte(ln)) {
						wantReason = ReasonInvalidText
					}
					if len(got) != pre+3 {
						t.Fatalf("%q: %d records, want %d", in, len(got), pre+3)
					}
					if g := got[pre]; g.Line != int64(pre+1) || g.Reason != wantReason {
						t.Fatalf("%q: line %d gave %v, want %s", in, pre+1, g, wantReason)
					}
					if got[pre+1].Reason != "" || got[pre+2].Reason != "" {
						t.Fatalf("%q: the lines after it gave %v, %v", in, got[pre+1], got[pre+2])
					}
				}
			}
		}
	}
}

func TestScanLine(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantEnd   int // -1: len(in)
		wantClean bool
	}{
		{name: "ascii", in: "2024-01-01T10:00:00,1,GET /rate/up+2009=4", wantEnd: -1, wantClean: true},
		{name: "empty", in: "", wantEnd: 0, wantClean: true},
		{name: "newline only", in: "\n", wantEnd: 0, wantClean: true},
		{name: "tilde", in: strings.Repeat("~", 17), wantEnd: -1, wantClean: true},
		{name: "short line", in: "abc\ndef", wantEnd: 3, wantClean: true},
		{name: "newline after a word", in: "abcdefghijklmnopq\nrs", wantEnd: 17, wantClean: true},
		{name: "CRLF", in: "abcdefghij\r\nx", wantEnd: 11, wantClean: true},
		{name: "CR at the end", in: "abc\r", wantEnd: 4, wantClean: true},
		{name: "CR CR LF", in: "abc\r\r\n", wantEnd: 5, wantClean: false},
		{name: "CR inside", in: "abc\rdefghijk\n", wantEnd: 12, wantClean: false},
		{name: "NUL on the next line", in: "abc\n\x00defghijk", wantEnd: 3, wantClean: true},
		{name: "two-byte rune", in: "amélie+2001 and more text\n", wantEnd: 26, wantClean: true},
		{name: "rune across words", in: "1234567é123456789", wantEnd: -1, wantClean: true},
		{name: "four-byte rune", in: "film 🎬 night, long enough", wantEnd: -1, wantClean: true},
		{name: "replacement char encoded", in: "a\uFFFDb", wantEnd: -1, wantClean: true},
		{name: "NUL early", in: "\x00abcdefghijklmnop", wantEnd: -1, wantClean: false},
		{name: "NUL late", in: "abcdefghijklmnop\x00\nabc", wantEnd: 17, wantClean: false},
		{name: "NUL in tail", in: "abcdefghi\x00", wantEnd: -1, wantClean: false},
		{name: "tab", in: "abc\tdefghijk", wantEnd: -1, wantClean: false},
		{name: "unit separator", in: "abcdefgh\x1f", wantEnd: -1, wantClean: false},
		{name: "DEL", in: "abcdefgh\x7fijklmnop", wantEnd: -1, wantClean: false},
		{name: "C1 NEL", in: "abcdefgh\u0085", wantEnd: -1, wantClean: false},
		{name: "invalid byte", in: "abcdefgh\xffijklmnop\n", wantEnd: 17, wantClean: false},
		{name: "truncated rune", in: "abcdefgh\xc3", wantEnd: -1, wantClean: false},
		{name: "truncated rune before newline", in: "abcdefgh\xc3\n", wantEnd: 9, wantClean: false},
		{name: "overlong", in: "abcdefgh\xc0\xafxyz", wantEnd: -1, wantClean: false},
		{name: "surrogate", in: "abcdefgh\xed\xa0\x80xyz", wantEnd: -1, wantClean: false},
		{name: "NUL after a rune", in: "é12345678\x00", wantEnd: -1, wantClean: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantEnd := tc.wantEnd
			if wantEnd < 0 {
				wantEnd = len(tc.in)
			}
			end, clean := scanLine([]byte(tc.in))
			if end != wantEnd || clean != tc.wantClean {
				t.Errorf("scanLine(%q) = %d, %v; want %d, %v", tc.in, end, clean, wantEnd, tc.wantClean)
			}
			if oc := oracleClean([]byte(tc.in[:wantEnd])); oc != tc.wantClean {
				t.Errorf("oracle says clean=%v for %q (the test's oracle disagrees)", oc, tc.in[:wantEnd])
			}
		})
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "slug", in: "the+green+mile+1999", want: true},
		{name: "short", in: "x", want: true},
		{name: "exactly eight", in: "abcdefgh", want: true},
		{name: "non-ASCII", in: "amélie+2001", want: true},
		{name: "empty", in: "", want: false},
		{name: "comma short", in: "a,b", want: false},
		{name: "slash in first word", in: "a/bcdefghijkl", want: false},
		{name: "space in last byte", in: "abcdefghijk ", want: false},
		{name: "equals in overlap", in: "abcdefgh=ij", want: false},
		{name: "comma at nine", in: "abcdefghi,", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := validID([]byte(tc.in)); got != tc.want {
				t.Errorf("validID(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestShapes(t *testing.T) {
	r := New(Options{})
	tests := []struct {
		name      string
		shape     *rules.Shape
		event     string
		fields    []string
		nullables []string
	}{
		{name: "watch", shape: r.Shapes()[0], event: rules.MovieWatchEvent,
			fields: []string{"time:string", "userId:string", "movieId:string", "minute:int"}},
		{name: "rating", shape: r.Shapes()[1], event: rules.MovieRatingEvent,
			fields: []string{"time:string", "userId:string", "movieId:string", "rating:int"}},
		{name: "recommendation", shape: r.Shapes()[2], event: rules.RecommendationRequest,
			fields:    []string{"time:string", "userId:string", "server:string", "status:int", "recommendations:string", "responseTime:int"},
			nullables: []string{"recommendations"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.shape.Event(); got != tc.event {
				t.Errorf("event = %q, want %q", got, tc.event)
			}
			var got, nullables []string
			for _, f := range tc.shape.Fields() {
				got = append(got, f.Name+":"+f.Kind.String())
				if f.Nullable {
					nullables = append(nullables, f.Name)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.fields, " ") {
				t.Errorf("fields = %v, want %v", got, tc.fields)
			}
			if strings.Join(nullables, " ") != strings.Join(tc.nullables, " ") {
				t.Errorf("nullable = %v, want %v", nullables, tc.nullables)
			}
		})
	}
	if a, b := r.Shapes(), r.Shapes(); a[0] != b[0] {
		t.Error("Shapes returns new shapes on each call")
	}
}

// countSink counts and does nothing else.
type countSink struct{ events, malformed int }

func (s *countSink) Event(*audit.Event)                       { s.events++ }
func (s *countSink) Malformed(audit.Position, string, []byte) { s.malformed++ }

func TestParserDoesNotAllocate(t *testing.T) {
	g := newGenerator(1, 4096, 10)
	data, _ := g.generate(2000)
	r := New(Options{MaxLineBytes: 4096})
	sink := &countSink{}
	p := newParser(r.shapes, sink, 0, r.maxLine)
	allocs := testing.AllocsPerRun(5, func() { p.lines(data, 1) })
	if allocs != 0 {
		t.Errorf("parsing %d lines allocates %v times, want 0", g.line, allocs)
	}
	if sink.events == 0 || sink.malformed == 0 {
		t.Errorf("sink saw %d events and %d malformed lines, want some of each", sink.events, sink.malformed)
	}
}

// TestTimeCache feeds one cache a sequence of times: hits on the cached
// minute must still check the seconds and fraction, hits on the cached
// hour the clock, and misses the whole time.
func TestTimeCache(t *testing.T) {
	var c timeCache
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"2024-02-29T10:00:00", true},
		{"2024-02-29T10:00:59", true},           // minute hit
		{"2024-02-29T10:00:60", false},          // minute hit, bad second
		{"2024-02-29T10:00:5a", false},          // minute hit, letter
		{"2024-02-29T10:00-00", false},          // minute hit, bad separator
		{"2024-02-29T10:00:00.123456789", true}, // minute hit, fraction
		{"2024-02-29T10:00:00.1234567890", false},
		{"2024-02-29T10:00:00,5", false},
		{"2024-02-29T10:00:0", false}, // too short
		{"2024-02-29T11:00:00", true}, // another hour, the same minute
		{"2024-02-29T11:00:01", true},
		{"2024-02-28T11:00:01", true}, // another day
		{"2024-02-29T10:00:00", true},
		{"2024-02-29T10:59:59.123", true}, // hit
		{"2024-02-29T10:60:00", false},    // hit, bad minute
		{"2024-02-29T10:00:61", false},    // hit, bad second
		{"2024-02-29T10:00:00.", false},   // hit, empty fraction
		{"2024-02-29T10-00:00", false},    // hit, bad separator
		{"2024-02-29T10:00", false},       // too short
		{"2023-02-29T10:00:00", false},    // miss: not a leap year
		{"2024-02-29T10:00:01", true},     // the cache still holds 10h
		{"2024-02-29T24:00:00", false},    // miss: no hour 24
		{"2024-03-01T00:00:00", true},     // miss, then cached
		{"2024-03-01T00:00:00Z", false},   // hit, bad fraction
	} {
		if got := c.valid([]byte(tc.in)); got != tc.want {
			t.Errorf("valid(%q) = %v, want %v", tc.in, got, tc.want)
		}
		if got := validTime([]byte(tc.in)); got != tc.want {
			t.Errorf("validTime(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
