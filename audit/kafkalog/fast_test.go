package kafkalog

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
	"testing"
)

// fastBases are lines of each shape in the forms fastLines takes, and a
// few near them.
var fastBases = []string{
	tWatch,
	tRate,
	tReco,
	"2024-03-17T10:04:59.5,4242424242,GET /data/m/a/0.mpg",
	"2024-03-17T10:04:59.123456789,1,GET /rate/x=10",
	"2024-03-17T10:05:01,7,recommendation request s1, status 0, result: java.net.SocketTimeoutException: Read timed out, 0 ms",
	"2024-03-17T10:05:01,7,recommendation request s1, status 200, result: , 5 ms",
	"2024-03-17T10:05:01,7,recommendation request s1, status 200, result:, 5 ms",
	"2024-03-17T10:05:01,7,recommendation request s1, status 200, result: a, b, , 5 ms",
	"2024-03-17T10:05:01,7,recommendation request s1, status 200, result: , , 5 ms",
	"2024-03-17T10:05:01,7,recommendation request s1, status 200, result: x, 123456789012345678 ms",
	"2024-03-17T10:04:59,1,GET /data/m/the+green+mile+1999/123456789012345678.mpg",
	"2024-03-17T10:04:59,1,GET /data/m/the+green+mile+1999/1234567890123456789.mpg",
	"2024-03-17T10:04:59,1,GET /rate/abcdefgh=1",
}

// fastBytes are the byte values TestFastLinesAgree puts in: the
// separators of the shapes, digits, and bytes that are not printable
// ASCII.
var fastBytes = []byte{0x00, '\t', '\n', '\r', 0x1f, ' ', '!', '+', ',', '-', '.', '/', '0', '9', ':', '=', 'T', 'm', '~', 0x7f, 0x80, 0xc3, 0xff}

// TestFastLinesAgree holds lines, which tries fastLines first, to the
// general parse of each line (referenceRecs), and the count of lines it
// returns to the newlines: for lines of every shape with each of
// fastBytes put in, replacing or added, at each place, at the end of the
// data with and without a newline, and followed by another line; and for
// the lines cut at each length, also with CRLF, after a byte order mark
// (which only the first line may have) and with maximum line lengths
// about theirs.
func TestFastLinesAgree(t *testing.T) {
	r := New(Options{Workers: 1})
	limited := []*Reader{r}
	for _, n := range []int{len(tWatch) - 1, len(tWatch), len(tRate), len(tReco) - 1, len(tReco)} {
		limited = append(limited, New(Options{Workers: 1, MaxLineBytes: n}))
	}
	eq := func(a, b rec) bool { return a.String() == b.String() }
	check := func(r *Reader, in string) {
		t.Helper()
		c := &collector{}
		n := newParser(r.shapes, c, 3, r.maxLine).lines([]byte(in), 1)
		// every newline ends a line, and text after the last one is one more
		wantN := int64(strings.Count(in, "\n"))
		if in != "" && !strings.HasSuffix(in, "\n") {
			wantN++
		}
		if n != wantN {
			t.Fatalf("max line %d, %q: lines = %d, want %d", r.maxLine, in, n, wantN)
		}
		got := c.recs
		slices.SortFunc(got, compareRecs)
		if want := referenceRecs(r, []byte(in)); !slices.EqualFunc(got, want, eq) {
			t.Fatalf("max line %d, %q:\ngot  %v\nwant %v", r.maxLine, in, got, want)
		}
	}
	for _, base := range fastBases {
		for i := 0; i <= len(base); i++ {
			ln := base[:i]
			for _, in := range []string{ln, ln + "\n", ln + "\r\n", ln + "\r", ln + "\r\n" + tWatch, "\ufeff" + ln + "\n", tRate + "\n\ufeff" + ln} {
				for _, r := range limited {
					check(r, in)
				}
			}
			for _, c := range fastBytes {
				var lns []string
				if i < len(base) {
					lns = append(lns, base[:i]+string(c)+base[i+1:])
				}
				lns = append(lns, base[:i]+string(c)+base[i:])
				for _, ln := range lns {
					check(r, ln)
					check(r, ln+"\n"+tRate+"\n")
				}
			}
		}
	}
}

// TestFastLinesTakes checks that fastLines, not the general way, takes
// the lines of fastBases that are in its form, in runs of three before a
// line that is not (and gives the word-at-a-time searches the bytes they
// read), so that TestFastLinesAgree tests it and not only the general way.
func TestFastLinesTakes(t *testing.T) {
	r := New(Options{Workers: 1})
	for _, base := range fastBases {
		// the fast path leaves numbers of 19 digits to the general way
		taken := !strings.Contains(base, "1234567890123456789")
		for _, in := range []string{base + "\n" + base + "\r\n" + base + "\n", base + "\r\n" + base + "\n" + base + "\r\n"} {
			k, n := newParser(r.shapes, &collector{}, 3, r.maxLine).fastLines([]byte(in+"# not an event\n"), 1)
			if got := k == len(in) && n == 3; got != taken {
				t.Errorf("fastLines(%q) = %d bytes, %d lines; want all taken: %v", in, k, n, taken)
			}
		}
	}
}

// TestSecondWord holds secondWord to validSecond for every value of the
// three bytes it checks, and a fourth it must not.
func TestSecondWord(t *testing.T) {
	tm := []byte("2024-03-17T10:04:59,")
	for x := range uint32(1 << 24) {
		x |= (x * 0x9e3779b9) & 0xff000000 // any fourth byte
		binary.LittleEndian.PutUint32(tm[16:], x)
		if got, want := secondWord(x), validSecond(tm[:19]); got != want {
			t.Fatalf("secondWord(%q) = %v, want %v", tm[16:], got, want)
		}
	}
}

// TestStops holds the searches of fastLines, eight bytes at a time or
// (idEnd and commaEnd on amd64) sixteen, to a byte-by-byte answer, with
// each byte value at each place of inputs of 0 to 40 bytes, so that every
// block width meets it at every offset. The assembly versions scan to the
// end and must find every stop; a word-at-a-time Go version may give up
// (-1) only on a stop in the last len%8 bytes, which it does not read.
func TestStops(t *testing.T) {
	exact := asmStops // idEnd and commaEnd are the assembly's
	isID := func(c byte) bool { return c > ' ' && c < 0x7f && c != ',' && c != '/' && c != '=' }
	isUser := func(c byte) bool { return c >= ' ' && c < 0x7f && c != ',' }
	want := func(b []byte, ok func(byte) bool) int {
		for i, c := range b {
			if !ok(c) {
				return i
			}
		}
		return -1
	}
	// check allows a Words version's -1 on a stop in the last
	// (len(b)-from)%8 bytes, as documented; the assembly's must be exact.
	check := func(name string, exact bool, b []byte, from, got, want int) {
		t.Helper()
		if got != want && (exact || got != -1 || want >= 0 && want-from < (len(b)-from)&^7) {
			t.Fatalf("%s(%q, %d) = %d, want %d", name, b, from, got, want)
		}
	}
	buf := make([]byte, 0, 48)
	for n := 0; n <= 40; n++ {
		base := buf[:n]
		for i := range base {
			base[i] = "+09azAZ~!.-"[i%11]
		}
		for p := -1; p < n; p++ {
			for c := range 256 {
				if p >= 0 {
					base[p] = byte(c)
				} else if c > 0 {
					break
				}
				for _, from := range []int{0, min(3, n)} {
					b := base[from:]
					w := want(b, isID)
					if w >= 0 {
						w += from
					}
					check("idEnd", exact, base, from, idEnd(base, from), w)
					check("idEndWords", false, base, from, idEndWords(base, from), w)
					if w = want(b, isUser); w >= 0 {
						w += from
					}
					check("commaEnd", exact, base, from, commaEnd(base, from), w)
					check("commaEndWords", false, base, from, commaEndWords(base, from), w)
				}
				if n >= 8 {
					got := -1
					if m := commaStop(binary.LittleEndian.Uint64(base)); m != 0 {
						got = bits.TrailingZeros64(m) >> 3
					}
					if w := want(base[:8], isUser); got != w {
						t.Fatalf("commaStop(%q) flags byte %d, want %d", base[:8], got, w)
					}
				}
				if p >= 0 {
					base[p] = "+09azAZ~!.-"[p%11]
				}
			}
		}
	}
}
