package profile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/dqaudit/dqaudit/rules"
)

// TestAvroTimestampHours: an integer time field whose writer declared a
// timestamp logical type is placed in its UTC hour; one without is not.
func TestAvroTimestampHours(t *testing.T) {
	const hour = int64(3_600_000) // ms
	day := int64(1710806400000)   // 2024-03-19T00:00:00Z in ms
	for _, tc := range []struct {
		typ    string
		value  int64
		hour   int
		noHour bool
	}{
		{`{"type":"long","logicalType":"timestamp-millis"}`, day + 8*hour + 5, 8, false},
		{`["null",{"type":"long","logicalType":"timestamp-millis"}]`, day + 23*hour, 23, false},
		{`{"type":"long","logicalType":"timestamp-micros"}`, (day + 5*hour) * 1000, 5, false},
		{`{"type":"long","logicalType":"local-timestamp-millis"}`, day + 13*hour, 13, false},
		{`{"type":"long","logicalType":"timestamp-millis"}`, -1, 23, false}, // 1969-12-31T23:59:59.999Z
		{"long", day, 0, true},
	} {
		s := rules.NewShape("Tick", []rules.Field{{Name: "time", Kind: rules.KindInt, Type: tc.typ}})
		b := NewBuilder()
		b.Observe(ev(s, rules.Int(tc.value)))
		e := b.Profile().Events["Tick"]
		if tc.noHour {
			if e.NoHour != 1 {
				t.Errorf("%s %d: no_hour %d, want 1", tc.typ, tc.value, e.NoHour)
			}
			continue
		}
		if e.Hours[tc.hour] != 1 {
			t.Errorf("%s %d: hours %v, want one event in hour %d", tc.typ, tc.value, e.Hours, tc.hour)
		}
	}
}

// TestOtherDay: with the audited day set, events whose time (text or Avro
// timestamp) falls on another date are counted apart, and still in their
// hour; the count survives a merge and JSON.
func TestOtherDay(t *testing.T) {
	text := rules.NewShape("E", fields("time"))
	ts := rules.NewShape("E", []rules.Field{{Name: "time", Kind: rules.KindInt, Type: `{"type":"long","logicalType":"timestamp-millis"}`}})
	const day = int64(1710806400000) // 2024-03-19T00:00:00Z in ms
	b := NewBuilder()
	if err := b.SetDay("2024-03-19"); err != nil {
		t.Fatal(err)
	}
	for _, e := range []*testEvent{
		ev(text, rules.Str("2024-03-19T23:59:59")),
		ev(text, rules.Str("2024-03-18T23:59:59")),       // late
		ev(text, rules.Str("2024-03-20T00:00:00")),       // early
		ev(text, rules.Str("2025-03-19T05:00:00")),       // a year late: only the first 8 bytes differ
		ev(text, rules.Null()),                           // no hour: not counted
		ev(text, rules.Str("2024-03-20T01:00:00+05:00")), // 2024-03-19T20:00Z
		ev(text, rules.Str("2024-03-19T01:00:00+05:00")), // late: 2024-03-18T20:00Z
		ev(text, rules.Str("2024-03-20")),                // a date alone: no hour, but another day
		ev(ts, rules.Int(day)),
		ev(ts, rules.Int(day-1)), // 2024-03-18T23:59:59.999Z
		ev(ts, rules.Int(day+86_400_000)),
	} {
		b.Observe(e)
	}
	p := b.Profile()
	if e := p.Events["E"]; e.OtherDay != 7 || e.Hours[23] != 3 || e.Hours[20] != 2 || e.Hours[5] != 1 || e.NoHour != 2 {
		t.Fatalf("other_day %d, hour 23 %d, hour 20 %d, hour 5 %d, no_hour %d; want 7, 3, 2, 1, 2",
			e.OtherDay, e.Hours[23], e.Hours[20], e.Hours[5], e.NoHour)
	}
	p.Merge(p)
	var back Profile
	if err := json.Unmarshal([]byte(mustJSON(t, p)), &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Events["E"].OtherDay; got != 14 {
		t.Errorf("other_day after a merge with itself and JSON: %d, want 14", got)
	}
	if NewBuilder().SetDay("19.03.2024") == nil {
		t.Error("SetDay took a date that is not YYYY-MM-DD")
	}
}

func TestObserveByHand(t *testing.T) {
	s := rules.NewShape("MovieRatingEvent", fields("time", "userId", "movieId", "rating", "score"))
	b := NewBuilder()
	for _, e := range []*testEvent{
		ev(s, rules.Str("2024-03-19T08:00:01"), rules.Int(7), rules.Str("a"), rules.Int(4), rules.Float(1.5)),
		ev(s, rules.Str("2024-03-19T08:59:59"), rules.Int(7), rules.Str("b"), rules.Int(5), rules.Float(-0.5)),
		ev(s, rules.Str("2024-03-19T23:10:00"), rules.Int(8), rules.Str("a"), rules.Null(), rules.Float(2.5)),
		ev(s, rules.Str("19/03/2024"), rules.Null(), rules.Str("a"), rules.Int(3), rules.Float(math.NaN())),
		ev(s, rules.Null(), rules.Int(9), rules.Int(12), rules.Int(4), rules.Null()),
	} {
		b.Observe(e)
	}
	p := b.Profile()
	e := p.Events["MovieRatingEvent"]
	if e == nil || e.Count != 5 || e.Hours[8] != 2 || e.Hours[23] != 1 || e.NoHour != 2 {
		t.Fatalf("event profile = %+v", e)
	}

	rating := p.Field("MovieRatingEvent", "rating")
	if rating.Count != 5 || rating.Nulls != 1 || rating.KindCount(rules.KindInt) != 4 {
		t.Errorf("rating counts: count %d nulls %d ints %d", rating.Count, rating.Nulls, rating.KindCount(rules.KindInt))
	}
	top, other, ok := rating.TopK(2)
	want := []ValueCount{{rules.Int(4), 2}, {rules.Int(3), 1}}
	if !ok || !slices.Equal(top, want) || other != 1 {
		t.Errorf("rating TopK(2) = %v, other %d, ok %v; want %v, other 1", top, other, ok, want)
	}
	// Ratings 3, 4, 4, 5: mean 4, population variance (1+0+0+1)/4.
	if m, _ := rating.Mean(); m != 4 {
		t.Errorf("rating mean = %v, want 4", m)
	}
	if sd, _ := rating.StdDev(); !near(sd, math.Sqrt(0.5), 1e-15) {
		t.Errorf("rating stddev = %v, want sqrt(0.5)", sd)
	}
	// Lower quantiles by rank ⌊q·3⌋: p50 → rank 1 → 4; p100 → 5.
	for q, want := range map[float64]float64{0: 3, 0.5: 4, 0.95: 4, 1: 5} {
		if got, _ := rating.Quantile(q); got != want {
			t.Errorf("rating Quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if lo, _ := rating.Min(); lo != 3 {
		t.Errorf("rating min = %v", lo)
	}
	if hi, _ := rating.Max(); hi != 5 {
		t.Errorf("rating max = %v", hi)
	}

	movie := p.Field("MovieRatingEvent", "movieId")
	if got := movie.Kinds(); !slices.Equal(got, []rules.Kind{rules.KindInt, rules.KindString}) {
		t.Errorf("movieId kinds = %v", got)
	}
	if n, exact := movie.Distinct(); n != 3 || !exact {
		t.Errorf("movieId distinct = %d %v, want 3 exact", n, exact)
	}

	score := p.Field("MovieRatingEvent", "score")
	if score.NonFinite() != 1 || score.NumericCount() != 3 {
		t.Errorf("score: non-finite %d, numbers %d", score.NonFinite(), score.NumericCount())
	}
	if m, _ := score.Mean(); m != 3.5/3 {
		t.Errorf("score mean = %v, want %v", m, 3.5/3)
	}
	if lo, _ := score.Min(); lo != -0.5 {
		t.Errorf("score min = %v", lo)
	}
	if _, _, ok := score.TopK(5); !ok {
		t.Error("score TopK: not ok")
	}

	tm := p.Field("MovieRatingEvent", "time")
	if tm.Count != 5 || tm.Nulls != 1 || tm.NumericCount() != 0 {
		t.Errorf("time profile: %+v", tm)
	}
	if top, _, _ := tm.TopK(10); len(top) != 0 {
		t.Errorf("time values were profiled: %v", top)
	}
}

func TestObserveCopiesStrings(t *testing.T) {
	// The source's buffer is overwritten after each event.
	s := rules.NewShape("E", fields("name"))
	buf := make([]byte, 16)
	b := NewBuilder()
	e := ev(s, rules.Value{})
	for _, name := range []string{"alpha", "beta", "alpha", "gamma"} {
		n := copy(buf, name)
		e.vals[0] = rules.Str(unsafe.String(&buf[0], n))
		b.Observe(e)
		copy(buf, "XXXXXXXXXXXXXXXX")
	}
	top, _, _ := b.Profile().Field("E", "name").TopK(10)
	want := []ValueCount{{rules.Str("alpha"), 2}, {rules.Str("beta"), 1}, {rules.Str("gamma"), 1}}
	if !slices.Equal(top, want) {
		t.Errorf("TopK = %v, want %v", top, want)
	}
}

func TestHighCardinality(t *testing.T) {
	s := rules.NewShape("E", fields("id", "text", "n"))
	tests := []struct {
		name     string
		values   int
		text     int // bytes of each text value
		wantHigh [3]bool
	}{
		{name: "at the limit", values: MaxDistinct, text: 10, wantHigh: [3]bool{false, false, false}},
		{name: "one past", values: MaxDistinct + 1, text: 10, wantHigh: [3]bool{true, true, true}},
		{name: "long text", values: 100, text: MaxKeyBytes / 99, wantHigh: [3]bool{false, true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder()
			for i := range tc.values {
				for range 2 {
					id := strconv.Itoa(i)
					b.Observe(ev(s, rules.Str(id), rules.Str(id+strings.Repeat("x", tc.text-len(id))), rules.Int(int64(i))))
				}
			}
			p := b.Profile()
			for j, name := range []string{"id", "text", "n"} {
				f := p.Field("E", name)
				if f.HighCardinality() != tc.wantHigh[j] {
					t.Fatalf("%s: high = %v, want %v", name, f.HighCardinality(), tc.wantHigh[j])
				}
				n, exact := f.Distinct()
				if exact == f.HighCardinality() || math.Abs(float64(n-int64(tc.values))) > 0.02*float64(tc.values) {
					t.Errorf("%s: distinct = %d (exact %v), want about %d", name, n, exact, tc.values)
				}
				if _, _, ok := f.TopK(3); ok == f.HighCardinality() {
					t.Errorf("%s: TopK ok = %v", name, ok)
				}
			}
			// The ints' statistics survive the switch: 0..values-1, twice.
			n := p.Field("E", "n")
			mean, _ := n.Mean()
			if want := float64(tc.values-1) / 2; mean != want {
				t.Errorf("n mean = %v, want %v", mean, want)
			}
			if hi, _ := n.Max(); hi != float64(tc.values-1) {
				t.Errorf("n max = %v", hi)
			}
			if n.NumericCount() != int64(2*tc.values) {
				t.Errorf("n count = %d", n.NumericCount())
			}
		})
	}
}

// TestMergeEqualsWhole splits random events in random ways, profiles the
// parts, merges them in random order, some after a JSON round trip, and
// expects the very JSON of the whole.
func TestMergeEqualsWhole(t *testing.T) {
	const n = 40000
	events := newGen(1).events(n)
	whole := build(events)
	whole.Dates = []string{"2024-03-19"}
	want := mustJSON(t, whole)
	if !strings.Contains(want, `"high_cardinality":true`) || !strings.Contains(want, `"values_string"`) {
		t.Fatal("test data should have fields of both cardinalities")
	}
	r := rand.New(rand.NewPCG(2, 2))
	for trial := range 8 {
		k := 2 + r.IntN(4)
		parts := make([][]*testEvent, k)
		if trial%2 == 0 { // scattered
			for _, e := range events {
				j := r.IntN(k)
				parts[j] = append(parts[j], e)
			}
		} else { // contiguous, so that "tag" overflows only in the merge
			cuts := []int{0, n}
			for range k - 1 {
				cuts = append(cuts, r.IntN(n))
			}
			slices.Sort(cuts)
			for j := range k {
				parts[j] = events[cuts[j]:cuts[j+1]]
			}
		}
		profiles := make([]*Profile, k)
		for j, part := range parts {
			profiles[j] = build(part)
			profiles[j].Dates = []string{"2024-03-19"}
			if r.IntN(2) == 0 {
				profiles[j] = roundTrip(t, profiles[j])
			}
		}
		r.Shuffle(k, func(i, j int) { profiles[i], profiles[j] = profiles[j], profiles[i] })
		last := profiles[k-1]
		before := mustJSON(t, last)
		merged := &Profile{}
		if r.IntN(2) == 0 {
			merged = profiles[0]
			profiles = profiles[1:]
		}
		for _, p := range profiles {
			merged.Merge(p)
		}
		if got := mustJSON(t, merged); got != want {
			t.Fatalf("trial %d (%d parts): merged JSON differs from the whole's\n%s", trial, k, firstDiff(got, want))
		}
		if mustJSON(t, last) != before {
			t.Errorf("trial %d: Merge changed its argument", trial)
		}
	}
	tag := whole.Field("MovieRatingEvent", "tag")
	if !tag.HighCardinality() {
		t.Error("tag should be high-cardinality in the whole")
	}
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return "got:  …" + a[lo:min(len(a), i+200)] + "\nwant: …" + b[lo:min(len(b), i+200)]
}

func TestMergeCrossesCardinality(t *testing.T) {
	s := rules.NewShape("E", fields("id"))
	half := func(from, to int) *Profile {
		b := NewBuilder()
		for i := from; i < to; i++ {
			b.Observe(ev(s, rules.Str("v"+strconv.Itoa(i))))
		}
		return b.Profile()
	}
	tests := []struct {
		name string
		a, b *Profile
	}{
		{name: "low+low=high", a: half(0, 600), b: half(600, 1200)},
		{name: "low+high", a: half(0, 600), b: half(600, 3000)},
		{name: "high+low", a: half(0, 2400), b: half(2400, 3000)},
		{name: "high+high", a: half(0, 1500), b: half(1500, 3000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want *Profile
			if tc.name == "low+low=high" {
				want = half(0, 1200)
			} else {
				want = half(0, 3000)
			}
			tc.a.Merge(tc.b)
			if got, w := mustJSON(t, tc.a), mustJSON(t, want); got != w {
				t.Errorf("merge differs from whole\n%s", firstDiff(got, w))
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	events := newGen(3).events(20000)
	a, b := build(events[:12000]), build(events[12000:])
	a.Dates, b.Dates = []string{"2024-03-18"}, []string{"2024-03-19"}
	enc := mustJSON(t, a)
	for _, want := range []string{`"profile_version":1`, `"dates":["2024-03-18"]`, `"sketch":"`, `"distinct_hll":"`} {
		if !strings.Contains(enc, want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
	if err := keysSorted(enc); err != nil {
		t.Error(err)
	}
	da, db := roundTrip(t, a), roundTrip(t, b)
	if got := mustJSON(t, da); got != enc {
		t.Fatalf("re-encoding differs\n%s", firstDiff(got, enc))
	}
	a.Merge(b)
	da.Merge(db)
	if got, want := mustJSON(t, da), mustJSON(t, a); got != want {
		t.Fatalf("decoded profiles merge differently\n%s", firstDiff(got, want))
	}
	if !slices.Equal(da.Dates, []string{"2024-03-18", "2024-03-19"}) {
		t.Errorf("dates = %v", da.Dates)
	}
	for _, f := range []string{"latency", "responseTime"} {
		x, y := a.Field("RecommendationRequest", f), da.Field("RecommendationRequest", f)
		for _, q := range []float64{0.5, 0.95, 0.99} {
			qx, _ := x.Quantile(q)
			qy, _ := y.Quantile(q)
			if qx != qy {
				t.Errorf("%s Quantile(%v): %v after round trip, %v before", f, q, qy, qx)
			}
		}
		mx, _ := x.Mean()
		my, _ := y.Mean()
		if mx != my {
			t.Errorf("%s mean: %v after round trip, %v before", f, my, mx)
		}
	}
	x, y := a.Field("MovieWatchEvent", "userId"), da.Field("MovieWatchEvent", "userId")
	nx, _ := x.Distinct()
	ny, _ := y.Distinct()
	if nx != ny {
		t.Errorf("userId distinct: %d after round trip, %d before", ny, nx)
	}
}

// keysSorted checks that every object of a JSON document has its keys in
// ascending order.
func keysSorted(doc string) error {
	dec := json.NewDecoder(strings.NewReader(doc))
	type frame struct {
		object  bool
		wantKey bool
		last    string
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if key, ok := tok.(string); ok {
				if key <= top.last && top.last != "" {
					return fmt.Errorf("key %q after %q", key, top.last)
				}
				top.last, top.wantKey = key, false
				continue
			}
		}
		if top != nil && top.object {
			top.wantKey = true // a value ends, a key or } follows
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].wantKey = true
			}
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	s := rules.NewShape("E", fields("n"))
	b := NewBuilder()
	b.Observe(ev(s, rules.Int(3)))
	b.Observe(ev(s, rules.Float(2.5)))
	good := mustJSON(t, b.Profile())
	tests := []struct {
		name, old, new, wantErr string
	}{
		{name: "version", old: `"profile_version":1`, new: `"profile_version":2`, wantErr: "profile_version 2 not supported"},
		{name: "no version", old: `,"profile_version":1`, new: ``, wantErr: "no profile_version"},
		{name: "unknown field", old: `"count":2,"fields"`, new: `"count":2,"colour":1,"fields"`, wantErr: `unknown field "colour"`},
		{name: "counts", old: `"nulls":0`, new: `"nulls":1`, wantErr: `event "E": field "n": nulls and kinds add up to 3, not count 2`},
		{name: "sum", old: `"sum":"0x`, new: `"sum":"zz`, wantErr: "bad sum"},
		{name: "sketch", old: `"sketch":"`, new: `"sketch":"!`, wantErr: "sketch"},
		{name: "values", old: `"values_int":{"3":1}`, new: `"values_int":{"3":2}`, wantErr: "value counts do not add up"},
		{name: "date", old: `"dates":[]`, new: `"dates":["19.03.2024"]`, wantErr: "not YYYY-MM-DD"},
		{name: "other day", old: `"no_hour":2`, new: `"no_hour":2,"other_day":1`, wantErr: "other_day 1 is not within the 0 events with an hour"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(good, tc.old, tc.new, 1)
			if doc == good {
				t.Fatalf("%q not in %s", tc.old, good)
			}
			var p Profile
			err := json.Unmarshal([]byte(doc), &p)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestSizeBound profiles a million events, with ids of high cardinality
// and strings from a reused buffer, and keeps the JSON under 1 MB.
func TestSizeBound(t *testing.T) {
	if testing.Short() {
		t.Skip("a million events")
	}
	g := newGen(4)
	g.users, g.movies = 1_000_000, 100_000
	b := NewBuilder()
	e := &testEvent{}
	a := &arena{mk: func(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }}
	const n = 1_000_000
	for i := range n {
		g.fill(e, i, n, a)
		b.Observe(e)
	}
	p := b.Profile()
	p.Dates = []string{"2024-03-19"}
	doc := mustJSON(t, p)
	t.Logf("%d events → %d bytes of JSON", n, len(doc))
	if len(doc) > 1<<20 {
		t.Errorf("profile JSON is %d bytes, want < 1 MiB", len(doc))
	}
	var total int64
	for _, e := range p.Events {
		total += e.Count
	}
	if total != n {
		t.Errorf("events counted = %d", total)
	}
	users, _ := p.Field("MovieWatchEvent", "userId").Distinct()
	// About 600k watch events over a million ids: 1e6·(1−e^−0.6) ≈ 451k distinct.
	if math.Abs(float64(users)-451188) > 0.03*451188 {
		t.Errorf("distinct watch userIds = %d, want about 451188", users)
	}
}

func bigf(s string) *big.Float {
	f, _, err := big.ParseFloat(s, 0, 4096, big.ToNearestEven)
	if err != nil {
		panic(err)
	}
	return f
}

func TestExactSum(t *testing.T) {
	tests := []struct {
		name     string
		floats   []float64
		ints     []int64
		want     *big.Float
		wantText string // when it is an integer
	}{
		{name: "cancellation", floats: []float64{1e100, 1, -1e100}, want: bigf("1"), wantText: "1"},
		{name: "tiny", floats: []float64{math.SmallestNonzeroFloat64, 1}, want: new(big.Float).SetPrec(4096).Add(bigf("1"), bigf("0x1p-1074"))},
		{name: "halves", floats: []float64{0.5, 0.25, -2}, want: bigf("-1.25")},
		{name: "extremes", floats: []float64{math.MaxFloat64, math.MaxFloat64, -math.MaxFloat64}, want: new(big.Float).SetFloat64(math.MaxFloat64)},
		{name: "ints", ints: []int64{math.MaxInt64, math.MaxInt64, math.MinInt64}, want: bigf("9223372036854775806"), wantText: "9223372036854775806"},
		{name: "mixed", floats: []float64{0.5}, ints: []int64{-3}, want: bigf("-2.5")},
		{name: "empty", want: bigf("0"), wantText: "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a, rev exactSum
			for _, x := range tc.floats {
				a.addFloat(x)
			}
			var sq exactSum
			for _, x := range tc.ints {
				addIntTimes(&a, &sq, x, 1)
			}
			for i := len(tc.ints) - 1; i >= 0; i-- {
				addIntTimes(&rev, &sq, tc.ints[i], 1)
			}
			for i := len(tc.floats) - 1; i >= 0; i-- {
				rev.addFloat(tc.floats[i])
			}
			if a.float().Cmp(tc.want) != 0 {
				t.Errorf("sum = %s, want %s", a.float().Text('g', 30), tc.want.Text('g', 30))
			}
			if tc.wantText != "" && a.text() != tc.wantText {
				t.Errorf("text = %s, want %s", a.text(), tc.wantText)
			}
			if rev.text() != a.text() {
				t.Errorf("reverse order gives %s, not %s", rev.text(), a.text())
			}
			back, err := parseExactSum(a.text())
			if err != nil || back.text() != a.text() {
				t.Errorf("parse(%s) = %s, %v", a.text(), back.text(), err)
			}
		})
	}
}

func TestExactSumManyAdds(t *testing.T) {
	// Past the 2^30 additions between carry propagations, with limbs near
	// their maximum.
	if testing.Short() {
		t.Skip("slow")
	}
	var a exactSum
	x := math.Float64frombits(0x3fefffffffffffff) // just below 1, all mantissa bits set
	const n = maxAdds + 1000
	for range n {
		a.addFloat(x)
	}
	want := new(big.Float).SetPrec(4096).SetFloat64(x)
	want.Mul(want, new(big.Float).SetInt64(n))
	if a.float().Cmp(want) != 0 {
		t.Errorf("sum = %s, want %s", a.text(), want.Text('p', 0))
	}
}

func TestIntPathsAgree(t *testing.T) {
	// Ints added one by one (Builder, high cardinality) and by count
	// (materialized frequencies) give the same statistics.
	xs := []int64{math.MinInt64, -5, 0, 3, 3, math.MaxInt64, -1 << 40}
	var one, counted, seven, sevenCounted numStats
	for _, x := range xs {
		one.addInt(x)
		counted.addIntCount(x, 1)
		for range 7 {
			seven.addInt(x)
		}
		sevenCounted.addIntCount(x, 7)
	}
	s7, q7 := seven.totals()
	sc, qc := sevenCounted.totals()
	if s7.text() != sc.text() || q7.text() != qc.text() {
		t.Errorf("7 times: Σx %s vs %s, Σx² %s vs %s", s7.text(), sc.text(), q7.text(), qc.text())
	}
	s1, q1 := one.totals()
	s2, q2 := counted.totals()
	if s1.text() != s2.text() || q1.text() != q2.text() {
		t.Errorf("Σx %s vs %s, Σx² %s vs %s", s1.text(), s2.text(), q1.text(), q2.text())
	}
	if s1.text() != "-1099511627776" { // (MinInt64 + MaxInt64 = −1) − 5 + 0 + 3 + 3 − 2^40
		t.Errorf("Σx = %s", s1.text())
	}
	var b1, b2 []byte
	one.sketch.Encode(&b1, false)
	counted.sketch.Encode(&b2, false)
	if !bytes.Equal(b1, b2) || one.intMin != counted.intMin || one.intMax != counted.intMax {
		t.Error("sketches or extremes differ")
	}
}

// Text that is not UTF-8 (an Avro bytes field, a producer's Latin-1) is
// counted as JSON will write it, so that the history entry reads back:
// "\xff" and "\xfe" would otherwise both encode as "\ufffd", two equal
// keys, and the entry would be refused as not adding up.
func TestInvalidUTF8RoundTrips(t *testing.T) {
	s := rules.NewShape("E", fields("hash"))
	b := NewBuilder()
	for _, h := range []string{"\xff", "\xfe", "\xfe", "ok", "\xffa\xfe"} {
		b.Observe(ev(s, rules.Str(h)))
	}
	p := b.Profile()
	back := roundTrip(t, p)
	if got, want := mustJSON(t, back), mustJSON(t, p); got != want {
		t.Errorf("round trip changed the profile:\n got %s\nwant %s", got, want)
	}
	top, _, _ := back.Field("E", "hash").TopK(10)
	want := []ValueCount{{rules.Str("\ufffd"), 3}, {rules.Str("ok"), 1}, {rules.Str("\ufffda\ufffd"), 1}}
	if !slices.Equal(top, want) {
		t.Errorf("TopK = %v, want %v", top, want)
	}
}

// TestNonFiniteOnly: a profile whose float field held only NaN and
// infinities (a small file's, or a shard's) keeps their count, so that it
// reads back from JSON and merges into what the whole day gives.
func TestNonFiniteOnly(t *testing.T) {
	s := rules.NewShape("E", fields("x"))
	inf := []rules.Value{rules.Float(math.NaN()), rules.Float(math.Inf(1)), rules.Null(), rules.Float(math.Inf(-1))}
	finite := []rules.Value{rules.Float(2.5), rules.Int(3), rules.Float(math.NaN())}
	part := func(vals []rules.Value) *Profile {
		b := NewBuilder()
		for _, v := range vals {
			b.Observe(ev(s, v))
		}
		return b.Profile()
	}
	only := part(inf)
	if got := only.Field("E", "x").NonFinite(); got != 3 {
		t.Errorf("non-finite count %d, want 3", got)
	}
	var q Profile
	if err := json.Unmarshal([]byte(mustJSON(t, only)), &q); err != nil {
		t.Fatalf("the profile does not read back: %v", err)
	}
	whole := part(append(slices.Clone(inf), finite...))
	for _, parts := range [][2]*Profile{{part(inf), part(finite)}, {part(finite), part(inf)}} {
		merged := parts[0]
		merged.Merge(parts[1])
		if got, want := mustJSON(t, merged), mustJSON(t, whole); got != want {
			t.Errorf("merge differs from the whole\n%s", firstDiff(got, want))
		}
	}
}
