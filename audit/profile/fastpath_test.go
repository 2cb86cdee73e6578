package profile

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"

	"github.com/dqaudit/dqaudit/rules"
)

// plainEvent hides testEvent's ValueSlice, so that Observe reads it
// through Value.
type plainEvent struct{ e *testEvent }

func (p plainEvent) Shape() *rules.Shape     { return p.e.shape }
func (p plainEvent) Value(i int) rules.Value { return p.e.vals[i] }

// TestValueSlicePathsAgree checks that events read through ValueSlice and
// through Value give byte-identical profiles, with sources reusing their
// string buffers between events.
func TestValueSlicePathsAgree(t *testing.T) {
	var _ ValueSlicer = (*testEvent)(nil)
	for _, users := range []int{300, 50000} {
		fast, slow := NewBuilder(), NewBuilder()
		g1, g2 := newGen(11), newGen(11)
		g1.users, g2.users = users, users
		e1, e2 := &testEvent{}, &testEvent{}
		a1, a2 := &arena{mk: aliased}, &arena{mk: aliased}
		const n = 20000
		for i := range n {
			g1.fill(e1, i, n, a1)
			fast.Observe(e1)
			g2.fill(e2, i, n, a2)
			slow.Observe(plainEvent{e2})
		}
		if a, b := mustJSON(t, fast.Profile()), mustJSON(t, slow.Profile()); a != b {
			t.Errorf("users=%d: profiles differ at %s", users, firstDiff(a, b))
		}
	}
}

// aliased returns b as a string without copying: the arena's buffer is
// reused for the next event, as a source's is.
func aliased(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// TestKindsCounted: each kind of value is counted as its own, in a field
// of each cardinality, and a kind this version does not know is left out
// of the counts without a panic.
func TestKindsCounted(t *testing.T) {
	s := rules.NewShape("E", fields("low", "high"))
	b := NewBuilder()
	unknown := rules.Value{Kind: rules.KindString + 1, Str: "x"}
	vals := []rules.Value{rules.Null(), rules.Bool(true), rules.Bool(false), rules.Int(3), rules.Float(2.5), rules.Str("a"), unknown}
	for i := range 2 * MaxDistinct {
		b.Observe(ev(s, vals[i%len(vals)], rules.Str(strconv.Itoa(i))))
	}
	b.Observe(ev(s, unknown, unknown))
	p := b.Profile()
	low, high := p.Field("E", "low"), p.Field("E", "high")
	per := int64(2 * MaxDistinct / len(vals)) // 285 of each, and the first five once more
	for _, tc := range []struct {
		k    rules.Kind
		want int64
	}{{rules.KindNull, per + 1}, {rules.KindBool, 2*per + 2}, {rules.KindInt, per + 1}, {rules.KindFloat, per + 1}, {rules.KindString, per}} {
		if got := low.KindCount(tc.k); got != tc.want {
			t.Errorf("low: %d values of kind %v, want %d", got, tc.k, tc.want)
		}
	}
	if low.Count != 6*per+5 || low.trues != per+1 {
		t.Errorf("low: count %d, trues %d; want %d, %d", low.Count, low.trues, 6*per+5, per+1)
	}
	if !high.HighCardinality() || high.Count != 2*MaxDistinct || high.KindCount(rules.KindString) != 2*MaxDistinct {
		t.Errorf("high: high %v, count %d, strings %d; want true, %d, %d", high.HighCardinality(), high.Count, high.KindCount(rules.KindString), 2*MaxDistinct, 2*MaxDistinct)
	}
}

// TestFewStringsCounted: a field's strings are counted alike whether it
// holds few enough to be compared one by one or more, which its map
// finds; values repeat out of order so that the last one rarely matches.
func TestFewStringsCounted(t *testing.T) {
	s := rules.NewShape("E", fields("s"))
	for _, n := range []int{1, maxScan, maxScan + 1, 3 * maxScan} {
		b := NewBuilder()
		want := map[string]int64{}
		for i := range 50 * n {
			v := "server-" + strconv.Itoa(i*7%n)
			b.Observe(ev(s, rules.Str(v)))
			want[v]++
		}
		top, other, ok := b.Profile().Field("E", "s").TopK(n)
		if !ok || other != 0 || len(top) != n {
			t.Fatalf("%d strings: TopK = %v, other %d, ok %v", n, top, other, ok)
		}
		for _, vc := range top {
			if vc.Count != want[vc.Value.Str] {
				t.Errorf("%d strings: %q counted %d times, want %d", n, vc.Value.Str, vc.Count, want[vc.Value.Str])
			}
		}
	}
}

// TestTextTimesCached: the hour and other-day counts of text times, which
// the Builder reads from its cache when a time shares the date and hour
// of the last one read in the usual form, are rules.TextTime's for every
// time of a stream in which each is the last one changed a little: its
// seconds, a fraction, a zone or offset, the date, the hour, the 'T', a
// byte, its length. Each is checked as it is counted, so that two wrong
// readings cannot cancel out.
func TestTextTimesCached(t *testing.T) {
	s := rules.NewShape("E", fields("time"))
	b := NewBuilder()
	const day = "2024-03-19"
	if err := b.SetDay(day); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	tails := []string{"", ".5", ".123456", "Z", "+02:00", "-0530", "+05", "-00:00", " EST", "[UTC]", "+2", "1", ":"}
	bases := []string{"2024-03-19T08:15:00", "2024-03-19 08:15:00", "2024-03-20T23:59:59", "2024-02-30T01:00:00", "2024-03-19T24:00:00", "2024-03-19T8:15:00"}
	const alphabet = "0123456789-+:TZ .x"
	var hours [24]int64
	var noHour, otherDay int64
	cur := bases[0]
	for i := range 200_000 {
		switch k := r.IntN(10); {
		case k == 0:
			cur = bases[r.IntN(len(bases))]
		case k < 4 && len(cur) >= 19: // the next second, or a minute
			c := []byte(cur)
			c[18] = '0' + byte(r.IntN(10))
			c[15] = '0' + byte(r.IntN(6))
			cur = string(c)
		case k < 6 && len(cur) >= 19:
			cur = cur[:19] + tails[r.IntN(len(tails))]
		case k < 8 && len(cur) > 0:
			c := []byte(cur)
			c[r.IntN(len(c))] = alphabet[r.IntN(len(alphabet))]
			cur = string(c)
		default:
			cur += "0123456789"
			cur = cur[:min(len(cur), 10+r.IntN(16))]
		}
		b.Observe(ev(s, rules.Str(cur)))
		date, h, ok := rules.TextTime(cur)
		if ok && h >= 0 {
			hours[h]++
		} else {
			noHour++
		}
		if ok && date != day {
			otherDay++
		}
		e := b.events["E"]
		if n := e.fields["time"].kinds[rules.KindString]; n != int64(i+1) {
			t.Fatalf("time %d, %q: %d strings counted", i, cur, n)
		}
		if e.hours != hours || e.noHour != noHour || e.otherDay != otherDay {
			t.Fatalf("time %d, %q: hours %v, no hour %d, other day %d; rules.TextTime gives %v, %d, %d",
				i, cur, e.hours, e.noHour, e.otherDay, hours, noHour, otherDay)
		}
	}
}
