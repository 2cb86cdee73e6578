package rules

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func writeFile(t testing.TB, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	var err error
	if strings.HasSuffix(strings.ToLower(name), ".gz") {
		f, ferr := os.Create(path)
		if ferr != nil {
			t.Fatal(ferr)
		}
		zw := gzip.NewWriter(f)
		_, err = zw.Write([]byte(text))
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	} else {
		err = os.WriteFile(path, []byte(text), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadSet(t *testing.T) {
	dir := t.TempDir()
	csvText := "\ufeffname,user_id,age\r\n" +
		"ann,u1,30\r\n" +
		"\"Bob, Jr.\",u2,41\r\n" +
		"\"multi\nline\",\" u3 \",5\n" +
		"eve,,7\n" +
		"\n" +
		"zed,42,1\n"
	txtText := "# known users\nu1\n  u2  \n\n#u9\n42\nu1\n"
	for _, tc := range []struct {
		name string
		ref  Reference
		text string
		in   []Value
		out  []Value
		n    int
	}{
		{"csv with quotes", Reference{Path: "users.csv", Column: "user_id"}, csvText,
			[]Value{Str("u1"), Str("u2"), Str("u3"), Str("42"), Int(42), Float(42)},
			[]Value{Str(""), Str("u9"), Str(" u3 "), Null(), Int(43), Str("ann"), Float(42.5)}, 4},
		{"csv gzipped", Reference{Path: "users.csv.gz", Column: "user_id"}, csvText,
			[]Value{Str("u1"), Str("u3"), Int(42)}, []Value{Str("u9")}, 4},
		{"csv without quotes", Reference{Path: "plain.csv", Column: "id"}, "id\n7\n8\n7\n",
			[]Value{Int(7), Str("8")}, []Value{Int(9)}, 2},
		{"csv last column without final newline", Reference{Path: "last.csv", Column: "b"}, "a,b\n1,x\n2,y",
			[]Value{Str("x"), Str("y")}, []Value{Str("1")}, 2},
		{"txt with comments", Reference{Path: "users.txt", Column: ""}, txtText,
			[]Value{Str("u1"), Str("u2"), Int(42)}, []Value{Str("u9"), Str("# known users"), Str("")}, 3},
		{"txt gzipped", Reference{Path: "users.TXT.GZ"}, txtText,
			[]Value{Str("u2"), Int(42)}, []Value{Str("u9")}, 3},
		{"txt with a byte order mark", Reference{Path: "bom.txt"}, "\ufeff42\r\nu1\r\n",
			[]Value{Str("42"), Int(42), Str("u1")}, []Value{Str("\ufeff42")}, 2},
		{"txt booleans by text", Reference{Path: "b.txt"}, "true\n",
			[]Value{Bool(true)}, []Value{Bool(false)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.ref.Name = "users"
			tc.ref.Path = writeFile(t, dir, tc.ref.Path, tc.text)
			s, err := LoadSet(tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tc.in {
				if !s.Has(v) {
					t.Errorf("Has(%#v) = false", v)
				}
			}
			for _, v := range tc.out {
				if s.Has(v) {
					t.Errorf("Has(%#v) = true", v)
				}
			}
			if s.Len() != tc.n {
				t.Errorf("Len() = %d, want %d", s.Len(), tc.n)
			}
		})
	}
}

func TestLoadSetErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file, text, column string
		want                     string // %s is the file's path
	}{
		{"missing column", "users.csv", "name,userid\nann,u1\n", "user_id",
			`%s: no column "user_id" in the header (did you mean "userid"?); its columns are "name" and "userid"`},
		{"short row", "short.csv", "name,user_id\nann,u1\nbob\n", "user_id",
			`%s:3: the row has 1 fields, so no column "user_id" (field 2)`},
		{"short quoted row", "shortq.csv", "name,user_id\n\"ann\",u1\n\"bob\"\n", "user_id",
			`%s:3: the row has 1 fields, so no column "user_id" (field 2)`},
		{"bad quotes", "badq.csv", "name,user_id\nann,u1\n\"bob,u2\n", "user_id",
			`%s:3:9: extraneous or missing " in quoted-field`},
		{"empty csv", "empty.csv", "", "user_id",
			`%s: the file is empty; it needs a header row naming column "user_id"`},
		{"not gzip", "fake.txt.gz", "u1\nu2\nu3\nu4\n", "",
			`%s: not a gzip file: gzip: invalid header`},
		{"avro", "ids.avro", "", "",
			`%s: LoadSet reads .csv and .txt files; Avro references are read by the Avro reader`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadSet(Reference{Name: "users", Path: path, Column: tc.column})
			want := fmt.Sprintf(tc.want, path)
			if err == nil || err.Error() != want {
				t.Errorf("got  %v\nwant %s", err, want)
			}
		})
	}
	_, err := LoadSet(Reference{Name: "users", Path: filepath.Join(dir, "nope.txt")})
	if err == nil || !strings.HasPrefix(err.Error(), "open ") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSetBuilder(t *testing.T) {
	b := NewSetBuilder(0)
	// Enough ids to fill several chunks of every bucket, short and long
	// (over 15 bytes), with repeats.
	for i := 0; i < 300_000; i++ {
		b.Add(fmt.Sprintf("user-%d", i))
		b.AddBytes([]byte(fmt.Sprintf("a-much-longer-user-id-%d", i%1000)))
	}
	b.AddBytes([]byte("user-7"))
	b.Add("")
	edge := []string{"123456789012345", "1234567890123456", "x\x00", "x", strings.Repeat("é", 200)}
	for _, id := range edge {
		b.Add(id)
	}
	s := b.Set()
	if want := 300_000 + 1000 + 1 + len(edge); s.Len() != want {
		t.Errorf("Len() = %d, want %d", s.Len(), want)
	}
	for _, id := range append(edge, "user-0", "user-299999", "user-123456", "", "a-much-longer-user-id-999") {
		if !s.Has(Str(id)) {
			t.Errorf("missing %.20q", id)
		}
	}
	for _, id := range []string{"user-300000", "a-much-longer-user-id-1000", "12345678901234", "x\x00\x00", "123456789012345 "} {
		if s.Has(Str(id)) {
			t.Errorf("has %q, never added", id)
		}
	}
	if b.Set().Len() != 0 {
		t.Error("the builder is not empty after Set")
	}
	if n := NewSetBuilder(0).Set().Len(); n != 0 {
		t.Errorf("empty set has %d ids", n)
	}
	allocs := testing.AllocsPerRun(100, func() {
		s.Has(Int(123456))
		s.Has(Float(12))
		s.Has(Str("user-1"))
		s.Has(Str("a-much-longer-user-id-7"))
	})
	if allocs != 0 {
		t.Errorf("Has allocates %v times", allocs)
	}
}

// TestSetNumerals checks that ids that are numerals are found as the
// other ids are, whether they go in a bitmap (dense) or in the table
// (sparse, too few for the numbers they span), and that the spellings
// of a number that are not its numeral stay apart from it.
func TestSetNumerals(t *testing.T) {
	ids := []string{"0", "7", "42", "00", "08", "+5", "-3", "5 ", "1e3", "u12",
		"1000000000000000", "12345678901234567890"}
	probes := []Value{Str("0"), Str("7"), Str("42"), Str("00"), Str("08"), Str("8"), Str("+5"), Str("5"),
		Str("-3"), Str("5 "), Str("1e3"), Str("1000"), Str("u12"), Str("12"), Str(""), Str("43"), Str("007"),
		Str("999999999999999"), Str("99999999999999"), Str("1000000000000000"), Str("12345678901234567890"),
		Int(0), Int(7), Int(42), Int(8), Int(-3), Int(3), Int(1000), Int(999999999999999), Int(1000000000000000),
		Float(42), Float(7.5), Decimal(42, "42"), Bool(true), Null()}
	for _, tc := range []struct {
		name  string
		ids   []string // beside ids
		extra int      // numerals 1000+i*step for i < extra, beside ids
		step  uint64   // apart
		bits  bool     // the set keeps its numerals in a bitmap
	}{
		{"dense", nil, 5000, 1, true},
		{"few", []string{"999999999999999"}, 0, 1, false}, // too few for the numbers they span
		{"sparse", nil, 5000, 1 << 30, false},
		{"only small numerals", []string{"1", "3"}, 0, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewSetBuilder(0)
			want := map[string]bool{}
			for _, id := range append(tc.ids, ids...) {
				b.Add(id)
				want[id] = true
			}
			for i := 0; i < tc.extra; i++ {
				id := strconv.FormatUint(1000+uint64(i)*tc.step, 10)
				b.AddBytes([]byte(id))
				b.Add(id) // a repeat
				want[id] = true
			}
			set := b.Set()
			if got := set.(*hashSet).bits != nil; got != tc.bits {
				t.Errorf("bitmap: %v, want %v", got, tc.bits)
			}
			if set.Len() != len(want) {
				t.Errorf("Len() = %d, want %d", set.Len(), len(want))
			}
			for _, v := range probes {
				text := v.String()
				if v.Kind == KindFloat && v.Float == 42 {
					text = "42"
				}
				if got := set.Has(v); got != (want[text] && v.Kind != KindNull) {
					t.Errorf("Has(%#v) = %v", v, got)
				}
			}
			for id := range want {
				if !set.Has(Str(id)) {
					t.Errorf("missing %q", id)
				}
			}
		})
	}
}

// TestSetNumeralsAllocate checks that a set of users numbered from 1
// keeps them in a bitmap, not in 16-byte slots.
func TestSetNumeralsAllocate(t *testing.T) {
	const n = 1 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b := NewSetBuilder(n)
	var buf []byte
	for i := 1; i <= n; i++ {
		buf = strconv.AppendInt(buf[:0], int64(i), 10)
		b.AddBytes(buf)
	}
	s := b.Set()
	runtime.ReadMemStats(&after)
	if s.Len() != n || !s.Has(Str("1")) || !s.Has(Int(n)) || s.Has(Int(n+1)) || s.Has(Str("0")) {
		t.Fatalf("Len() = %d, or 1, %d, %d or 0 wrong", s.Len(), n, n+1)
	}
	// The builder's 8 bytes an id, and the bitmap.
	if got := after.TotalAlloc - before.TotalAlloc; got > 10*n {
		t.Errorf("building a set of %d numerals allocated %d bytes, want at most %d", n, got, 10*n)
	}
}

// TestSetLongIDsAllocate checks that long ids are copied into the set
// about once: a single growing arena copied all of them each time it
// grew, and 2M ids of 200 bytes (402 MB) peaked at 1.3 GB of RSS.
func TestSetLongIDsAllocate(t *testing.T) {
	const n, size = 60_000, 200 // 12 MB of ids, over several arena chunks
	pad := strings.Repeat("x", size-20)
	ids := make([][]byte, n)
	for i := range ids {
		ids[i] = fmt.Appendf(nil, "%s-%019d", pad, i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b := NewSetBuilder(n)
	for _, id := range ids {
		b.AddBytes(id)
	}
	s := b.Set()
	runtime.ReadMemStats(&after)
	if s.Len() != n {
		t.Fatalf("Len() = %d, want %d", s.Len(), n)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		if !s.Has(Str(string(ids[i]))) {
			t.Errorf("missing id %d", i)
		}
	}
	if s.Has(Str(pad + "-" + strings.Repeat("9", 19))) {
		t.Error("has an id never added")
	}
	// The ids, the table, the builder's buckets and a part chunk of slack.
	idBytes := uint64(n * size)
	if got := after.TotalAlloc - before.TotalAlloc; got > 2*idBytes {
		t.Errorf("building a set of %d MB of long ids allocated %d MB, want at most %d", idBytes>>20, got>>20, 2*idBytes>>20)
	}
}

// writeIDs writes a CSV of n users, the ids in the second column.
func writeIDs(tb testing.TB, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "name,user_id,signup")
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "user%d,%d,2024-01-%02d\n", i, 10_000_000+i*7, i%28+1)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// TestPackString checks that lookups pack ids as the builder does, for
// every short length and bytes that would show a misplaced or missing one.
func TestPackString(t *testing.T) {
	for n := 1; n <= maxShort; n++ {
		for _, base := range []byte{0x01, 0x80, 0xf0} {
			b := make([]byte, n)
			for i := range b {
				b[i] = base + byte(i)
			}
			if got, want := packString(string(b)), pack(b); got != want {
				t.Errorf("packString(%x) = %x, pack says %x", b, got, want)
			}
		}
	}
}

// BenchmarkLoadSet loads 5M ids from a CSV file and reports the heap the
// set keeps (MB-kept) and the bytes allocated while loading (MB-alloc).
func BenchmarkLoadSet(b *testing.B) {
	const n = 5_000_000
	path := filepath.Join(b.TempDir(), "users.csv")
	writeIDs(b, path, n)
	ref := Reference{Name: "users", Path: path, Column: "user_id"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		s, err := LoadSet(ref)
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		runtime.GC()
		runtime.ReadMemStats(&after)
		if s.Len() != n || !s.Has(Int(10_000_007)) {
			b.Fatalf("got %d ids", s.Len())
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB-kept")
		b.ReportMetric(float64(alloc)/(1<<20), "MB-alloc")
		b.ReportMetric(d.Seconds(), "s/load")
		runtime.KeepAlive(s)
	}
}

func BenchmarkSetHas(b *testing.B) {
	sb := NewSetBuilder(1 << 20)
	for i := 0; i < 1<<20; i++ {
		sb.Add(fmt.Sprint(i))
	}
	s := sb.Set()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !s.Has(Int(int64(i & (1<<20 - 1)))) {
			b.Fatal("missing")
		}
	}
}

// A gzipped reference padded with zeros after its last member loads as
// GNU gzip reads it, as the inputs do; other trailing bytes are an error
// that names the byte where they start.
func TestLoadSetGzipPadding(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "ids.txt.gz", "u1\nu2\n")
	clean, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	padded := filepath.Join(dir, "padded.txt.gz")
	os.WriteFile(padded, append(append([]byte{}, clean...), make([]byte, 4096)...), 0o644)
	set, err := LoadSet(Reference{Name: "ids", Path: padded})
	if err != nil || set.Len() != 2 || !set.Has(Str("u2")) {
		t.Fatalf("padded: %v, %v", set, err)
	}
	garbage := filepath.Join(dir, "garbage.txt.gz")
	os.WriteFile(garbage, append(append([]byte{}, clean...), 0, 0, 'x'), 0o644)
	_, err = LoadSet(Reference{Name: "ids", Path: garbage})
	want := fmt.Sprintf("gzip: trailing garbage at byte %d of the file, after 2 zero bytes", len(clean)+2)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), garbage) {
		t.Errorf("garbage: %v; want the file and %q", err, want)
	}
}

// numeralOracle is numeral by its rules, with strconv reading the number:
// 1 to maxShort bytes, no leading zero unless the id is "0", and nothing
// but ASCII digits, which ParseUint in base 10 alone accepts.
func numeralOracle(id string) (uint64, bool) {
	if len(id) == 0 || len(id) > maxShort || id[0] == '0' && id != "0" {
		return 0, false
	}
	x, err := strconv.ParseUint(id, 10, 64)
	return x, err == nil
}

// numeralBound bounds the numerals of oddNumerals' set.
const numeralBound = 1 << 20

// notNumerals are ids that are close to numerals but are not, added to
// the set of oddNumerals: has finds them in its table, so numeral taking
// one for a number would lose it. Their numbers are even: not in the
// bitmap.
var notNumerals = []string{"02", "0000", "00000000", "012345678", "12a4", "+2", "-2", "1_000", "1234567890123456", "100000000000000000000"}

// oddNumerals returns the set of the odd numbers below numeralBound, by
// their decimal text, and of notNumerals; its numerals are in a bitmap,
// which numeralIn reads.
func oddNumerals(tb testing.TB) *hashSet {
	tb.Helper()
	b := NewSetBuilder(numeralBound / 2)
	var buf []byte
	for x := uint64(1); x < numeralBound; x += 2 {
		buf = strconv.AppendUint(buf[:0], x, 10)
		b.AddBytes(buf)
	}
	for _, id := range notNumerals {
		b.Add(id)
	}
	set := b.Set().(*hashSet)
	if set.bits == nil || set.Len() != numeralBound/2+len(notNumerals) {
		tb.Fatalf("the set of odd numerals has %d ids, a bitmap %v; want %d, true", set.Len(), set.bits != nil, numeralBound/2+len(notNumerals))
	}
	return set
}

// checkNumeral fails t when numeral, numeralIn on set's bitmap, or
// set.has disagree with numeralOracle and the odd numbers set holds.
func checkNumeral(t *testing.T, set *hashSet, s string) {
	t.Helper()
	want, wantOK := numeralOracle(s)
	if x, ok := numeral(s); x != want || ok != wantOK {
		t.Fatalf("numeral(%q) = %d, %v, want %d, %v", s, x, ok, want, wantOK)
	}
	wantIn := wantOK && want%2 == 1 && want < numeralBound
	if in, ok := numeralIn(set.bits, s); in != wantIn || ok != wantOK {
		t.Fatalf("numeralIn(%q) = %v, %v, want %v, %v", s, in, ok, wantIn, wantOK)
	}
	wantHas := wantIn || slices.Contains(notNumerals, s)
	if has := set.has(s); has != wantHas {
		t.Fatalf("has(%q) = %v, want %v", s, has, wantHas)
	}
}

// TestNumeral holds numeral and numeralIn to numeralOracle and to a set
// of the odd numbers: every number below 200,000 and every 997th one
// after, below 10⁸ (all the lengths, with every digit at every place);
// every byte at every place of ids of 1 to 9 bytes; and the lengths
// about maxShort.
func TestNumeral(t *testing.T) {
	set := oddNumerals(t)
	var buf []byte
	step := uint64(1)
	for x := uint64(0); x < 100_000_000; x += step {
		if x >= 200_000 {
			step = 997
		}
		buf = strconv.AppendUint(buf[:0], x, 10)
		checkNumeral(t, set, string(buf))
	}
	for n := 1; n <= 9; n++ {
		for place := 0; place < n; place++ {
			for c := 0; c < 256; c++ {
				id := []byte("123456789"[:n])
				id[place] = byte(c)
				checkNumeral(t, set, string(id))
			}
		}
	}
	for _, s := range append([]string{"", "0", "00", "0000", "00000000", "01234567", "99999999", "10000000",
		"99999999999999", "999999999999999", "100000000000000", "123456789012345", "1000000000000000",
		"18446744073709551615", "18446744073709551616", "١٢٣", "1\x002"}, notNumerals...) {
		checkNumeral(t, set, s)
	}
}

// FuzzNumeral holds numeral and numeralIn to numeralOracle and to a set
// of the odd numbers.
func FuzzNumeral(f *testing.F) {
	for _, s := range []string{"1234", "12345678", "0123", "12a4", "1/34", "1:34", "123456789", "7"} {
		f.Add(s)
	}
	set := oddNumerals(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkNumeral(t, set, s)
	})
}
