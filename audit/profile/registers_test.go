package profile

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/rules"
)

// TestRegistersEncodeAsTheSketch: the Builder's own registers give the
// sketch, to the byte, that hyperloglog.Sketch.Insert and InsertHash give
// for the same values, with strings of every length metro hashes in its
// own way (0 to 600 bytes) and ints of both signs; the history holds
// these bytes and merges them with past days'.
func TestRegistersEncodeAsTheSketch(t *testing.T) {
	s := rules.NewShape("E", fields("text", "n"))
	b := NewBuilder()
	wantText, wantN := newHLL(), newHLL()
	for i := range 3 * MaxDistinct {
		text := strings.Repeat("ab", 300)[:i%600] + strconv.Itoa(i)
		if i%7 == 0 {
			text = text[:i%40] // short ones too, repeated
		}
		n := int64(i*i) - 5000
		b.Observe(ev(s, rules.Str(text), rules.Int(n)))
		hllString(wantText, text)
		hllInt(wantN, n)
	}
	p := b.Profile()
	for _, tc := range []struct {
		field string
		want  []byte
	}{
		{"text", mustMarshal(t, wantText.MarshalBinary)},
		{"n", mustMarshal(t, wantN.MarshalBinary)},
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
