package profile

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	metro "github.com/dgryski/go-metro"

	"github.com/dqaudit/dqaudit/rules"
)

// TestRegistersEncodeAsTheSketch: the Builder's own registers give the
// sketch, to the byte, that hyperloglog.Sketch.Insert and InsertHash give
// for the same values, with strings of every length metro hashes in its
// own way (0 to 600 bytes), ids of up to 8 bytes of any value, which the
// Builder hashes inline, and ints of both signs; the history holds these
// bytes and merges them with past days'.
func TestRegistersEncodeAsTheSketch(t *testing.T) {
	s := rules.NewShape("E", fields("text", "n", "id"))
	b := NewBuilder()
	wantText, wantN, wantID := newHLL(), newHLL(), newHLL()
	for i := range 3 * MaxDistinct {
		text := strings.Repeat("ab", 300)[:i%600] + strconv.Itoa(i)
		if i%7 == 0 {
			text = text[:i%40] // short ones too, repeated
		}
		n := int64(i*i) - 5000
		id := make([]byte, i%9)
		for j := range id {
			id[j] = byte(i*31 + j*17)
		}
		b.Observe(ev(s, rules.Str(text), rules.Int(n), rules.Str(string(id))))
		hllString(wantText, text)
		hllInt(wantN, n)
		hllString(wantID, string(id))
	}
	p := b.Profile()
	for _, tc := range []struct {
		field string
		want  []byte
	}{
		{"text", mustMarshal(t, wantText.MarshalBinary)},
		{"n", mustMarshal(t, wantN.MarshalBinary)},
		{"id", mustMarshal(t, wantID.MarshalBinary)},
	} {
		f := p.Field("E", tc.field)
		if !f.HighCardinality() {
			t.Fatalf("%s is not high-cardinality", tc.field)
		}
		if got := mustMarshal(t, f.hll.MarshalBinary); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: the sketch's %d bytes differ from hyperloglog's %d", tc.field, len(got), len(tc.want))
		}
	}
}

func mustMarshal(t *testing.T, marshal func() ([]byte, error)) []byte {
	t.Helper()
	b, err := marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestShortStringsHashedAsMetro: the strings of a high-cardinality field,
// which ObserveValues hashes itself when they are shorter than 32 bytes,
// set the registers that metro's hash of them sets: every length on both
// sides of each of metro's steps (32, 16, 8, 4, 2 and 1 bytes), of random
// bytes at offsets that do not align the words, and each byte value. The
// registers are compared after each string, while most are still empty:
// a wrong hash would raise one.
func TestShortStringsHashedAsMetro(t *testing.T) {
	s := rules.NewShape("E", fields("s"))
	b := NewBuilder()
	for i := range MaxDistinct + 1 {
		b.Observe(ev(s, rules.Str(strconv.Itoa(i))))
	}
	f := b.events["E"].fields["s"]
	if !f.high {
		t.Fatal("the field is not high-cardinality")
	}
	want := *f.regs
	check := func(str string) {
		t.Helper()
		b.Observe(ev(s, rules.Str(str)))
		want.insertHash(metro.Hash64Str(str, metroSeed))
		if *f.regs != want {
			t.Fatalf("the registers after %q (%d bytes) differ from metro's", str, len(str))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 200)
	for n := range 70 {
		for range 30 {
			for i := range buf {
				buf[i] = byte(r.Uint32())
			}
			at := r.IntN(len(buf) - n + 1)
			if n == 0 {
				check("")
				continue
			}
			// In place: a conversion would copy the bytes to an
			// aligned allocation.
			check(unsafe.String(&buf[at], n))
		}
	}
	for c := range 256 {
		check(string([]byte{byte(c)}))
		check(strings.Repeat(string([]byte{byte(c)}), 31))
	}
}
