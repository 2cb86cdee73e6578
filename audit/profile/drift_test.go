package profile

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/rules"
)

func TestPSI(t *testing.T) {
	tests := []struct {
		name      string
		base, cur []float64
		want      float64
	}{
		{name: "same", base: []float64{1, 2, 3}, cur: []float64{10, 20, 30}, want: 0},
		// Smoothed shares: base (0.5+ε)/(1+2ε) = 0.5 each; cur 0.25 → 0.250049990,
		// 0.75 → 0.749950010. (0.25005−0.5)·ln(0.25005/0.5) + (0.74995−0.5)·ln(0.74995/0.5)
		// = 0.172986 + 0.101545. Unsmoothed it would be 0.25·ln 2 + 0.25·ln 1.5 = 0.274653.
		{name: "half to quarter", base: []float64{0.5, 0.5}, cur: []float64{0.25, 0.75}, want: 0.2745315169696105},
		// Disjoint: shares (1+ε)/(1+2ε) and ε/(1+2ε) swap sides:
		// 2 · (1/(1+2ε)) · ln((1+ε)/ε) = 2 · 0.99980004 · 9.21044037.
		{name: "disjoint", base: []float64{1, 0}, cur: []float64{0, 1}, want: 18.41719729449413},
		{name: "lengths differ", base: []float64{1}, cur: []float64{1, 1}, want: math.NaN()},
		{name: "no mass", base: []float64{0, 0}, cur: []float64{1, 1}, want: math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PSI(tc.base, tc.cur)
			if math.IsNaN(tc.want) != math.IsNaN(got) || !math.IsNaN(got) && !near(got, tc.want, 1e-12) {
				t.Errorf("PSI = %.15g, want %.15g", got, tc.want)
			}
		})
	}
}

func TestJSDistance(t *testing.T) {
	tests := []struct {
		name      string
		base, cur []float64
		want      float64
	}{
		{name: "same", base: []float64{0.2, 0.8}, cur: []float64{2, 8}, want: 0},
		{name: "disjoint", base: []float64{1, 0}, cur: []float64{0, 1}, want: 1},
		// m = (0.75, 0.25). ½[0.5·log₂(0.5/0.75) + 0.5·log₂(0.5/0.25)] + ½[1·log₂(1/0.75)]
		// = ½[−0.292481 + 0.5] + ½·0.415037 = 0.311278; sqrt → 0.557923.
		{name: "half vs all", base: []float64{0.5, 0.5}, cur: []float64{1, 0}, want: 0.5579230452841438},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := JSDistance(tc.base, tc.cur); !near(got, tc.want, 1e-12) {
				t.Errorf("JSDistance = %.15g, want %.15g", got, tc.want)
			}
		})
	}
}

func TestLInf(t *testing.T) {
	tests := []struct {
		name      string
		base, cur []float64
		want      float64
	}{
		{name: "same", base: []float64{1, 1}, cur: []float64{0.5, 0.5}, want: 0},
		// Shares (0.2, 0.3, 0.5) vs (0.1, 0.6, 0.3): differences 0.1, 0.3, 0.2.
		{name: "counts", base: []float64{2, 3, 5}, cur: []float64{1, 6, 3}, want: 0.3},
		{name: "disjoint", base: []float64{1, 0}, cur: []float64{0, 1}, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := LInf(tc.base, tc.cur); !near(got, tc.want, 1e-15) {
				t.Errorf("LInf = %v, want %v", got, tc.want)
			}
		})
	}
}

// fieldOf profiles values of one field.
func fieldOf(vals ...rules.Value) *FieldProfile {
	s := rules.NewShape("E", fields("x"))
	b := NewBuilder()
	for _, v := range vals {
		b.Observe(ev(s, v))
	}
	return b.Profile().Field("E", "x")
}

func floats(xs ...float64) []rules.Value {
	vs := make([]rules.Value, len(xs))
	for i, x := range xs {
		vs[i] = rules.Float(x)
	}
	return vs
}

func repeat(x float64, n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = x
	}
	return xs
}

func TestDistributionsBinnedByHand(t *testing.T) {
	// Baseline: 1..10 ten times each. Its deciles (rank ⌊q·99⌋) are 1..9,
	// so the bins are ≤1, (1,2], …, (8,9], >9 with 0.1 each. Current: half
	// 1s, half 10s: 0.5 in the first bin and in the last.
	var base []float64
	for v := 1; v <= 10; v++ {
		base = append(base, repeat(float64(v), 10)...)
	}
	cur := append(repeat(1, 50), repeat(10, 50)...)
	d, err := Distributions(fieldOf(floats(base...)...), fieldOf(floats(cur...)...))
	if err != nil {
		t.Fatal(err)
	}
	wantBase := repeat(0.1, 10)
	wantCur := []float64{0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0.5}
	if !d.Numeric || !slices.EqualFunc(d.Base, wantBase, approx) || !slices.EqualFunc(d.Cur, wantCur, approx) {
		t.Fatalf("distributions = %+v", d)
	}
	// Edges are sketch bin values, within 1% of the deciles.
	if !strings.HasPrefix(d.Labels[0], "≤ 1.0") || !strings.HasPrefix(d.Labels[9], "> 8.9") {
		t.Errorf("labels = %q", d.Labels)
	}
	// With ε-smoothed shares b' = (0.1+ε)/(1+10ε), c' = (0.5+ε)/(1+10ε) in
	// two bins and ε/(1+10ε) in eight:
	// 2(c'−b')·ln(c'/b') + 8(ε'−b')·ln(ε'/b') = 1.28725 + 5.51986.
	psi, err := Compare(MetricPSI, fieldOf(floats(base...)...), fieldOf(floats(cur...)...), 0)
	if err != nil || !near(psi, 6.807107429705419, 1e-9) {
		t.Errorf("PSI = %v, %v; want 6.807107", psi, err)
	}
	linf, _ := Compare(MetricLInf, fieldOf(floats(base...)...), fieldOf(floats(cur...)...), 0)
	if !near(linf, 0.4, 1e-12) {
		t.Errorf("LInf = %v, want 0.4", linf)
	}
}

func approx(a, b float64) bool { return near(a, b, 1e-12) }

func strs(counts map[string]int) []rules.Value {
	var vs []rules.Value
	for s, n := range counts {
		for range n {
			vs = append(vs, rules.Str(s))
		}
	}
	return vs
}

func TestDistributionsCategorical(t *testing.T) {
	base := map[string]int{"a": 50, "b": 30, "c": 20}
	cur := map[string]int{"a": 20, "b": 30, "d": 50}
	d, err := Distributions(fieldOf(strs(base)...), fieldOf(strs(cur)...))
	if err != nil {
		t.Fatal(err)
	}
	// Ordered by baseline count, then current count.
	want := Distribution{
		Labels: []string{"a", "b", "c", "d"},
		Base:   []float64{0.5, 0.3, 0.2, 0},
		Cur:    []float64{0.2, 0.3, 0, 0.5},
	}
	if !slices.Equal(d.Labels, want.Labels) || !slices.EqualFunc(d.Base, want.Base, approx) || !slices.EqualFunc(d.Cur, want.Cur, approx) || d.Numeric {
		t.Errorf("distributions = %+v, want %+v", d, want)
	}

	// Beyond the top 20 of either side, values go to the other bucket.
	many := map[string]int{}
	for i := range 30 {
		many["v"+strconv.Itoa(i)] = 100 - i
	}
	d, err = Distributions(fieldOf(strs(many)...), fieldOf(strs(many)...))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Labels) != DefaultTopK+1 || d.Labels[DefaultTopK] != OtherLabel || d.Labels[0] != "v0" {
		t.Errorf("labels = %q", d.Labels)
	}
	// v20..v29 hold 80+…+71 = 755 of 100+…+71 = 2565.
	if !near(d.Base[DefaultTopK], 755.0/2565, 1e-12) {
		t.Errorf("other share = %v, want %v", d.Base[DefaultTopK], 755.0/2565)
	}

	var high []rules.Value
	for i := range MaxDistinct + 1 {
		high = append(high, rules.Str(strconv.Itoa(i)))
	}
	if _, err := Distributions(fieldOf(high...), fieldOf(strs(base)...)); !errors.Is(err, ErrHighCardinality) {
		t.Errorf("high cardinality: err = %v", err)
	}
	if _, err := Distributions(fieldOf(rules.Null()), fieldOf(strs(base)...)); !errors.Is(err, ErrNoData) {
		t.Errorf("no data: err = %v", err)
	}
}

func ints(xs ...int64) []rules.Value {
	vs := make([]rules.Value, len(xs))
	for i, x := range xs {
		vs[i] = rules.Int(x)
	}
	return vs
}

func TestChangesByHand(t *testing.T) {
	var b, c []int64
	for i := int64(1); i <= 100; i++ {
		b = append(b, i)     // p95: rank ⌊0.95·99⌋ = 94 → 95; mean 50.5
		c = append(c, 3*i+1) // p95: 3·95+1 = 286; mean 3·50.5+1 = 152.5
	}
	base, cur := fieldOf(ints(b...)...), fieldOf(ints(c...)...)
	tests := []struct {
		name string
		m    Metric
		q    float64
		want float64
	}{
		{name: "p95", m: MetricQuantileChange, q: 0.95, want: (286.0 - 95) / 95},
		{name: "p50", m: MetricQuantileChange, q: 0.5, want: (151.0 - 50) / 50}, // rank 49 → 50 and 151
		{name: "mean", m: MetricMeanChange, want: (152.5 - 50.5) / 50.5},
		{name: "nulls none", m: MetricNullRatioChange, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compare(tc.m, base, cur, tc.q)
			if err != nil || !near(got, tc.want, 1e-12) {
				t.Errorf("Compare(%s) = %v, %v; want %v", tc.m, got, err, tc.want)
			}
		})
	}

	// Floats go through the sketch: within its 1% on each side.
	fb, fc := make([]float64, 100), make([]float64, 100)
	for i := range fb {
		fb[i], fc[i] = float64(i+1), 2*float64(i+1)
	}
	got, err := QuantileChange(fieldOf(floats(fb...)...), fieldOf(floats(fc...)...), 0.95)
	if err != nil || !near(got, 1, 0.04) {
		t.Errorf("sketch p95 change = %v, %v; want 1 ± 0.04", got, err)
	}

	// Null share 2/10 → 5/10.
	nulls := func(n int) *FieldProfile {
		vs := ints(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
		for i := range n {
			vs[i] = rules.Null()
		}
		return fieldOf(vs...)
	}
	if got, err := NullRatioChange(nulls(2), nulls(5)); err != nil || !near(got, 0.3, 1e-15) {
		t.Errorf("NullRatioChange = %v, %v; want 0.3", got, err)
	}

	zero := fieldOf(ints(0, 0)...)
	if got, _ := MeanChange(zero, base); !math.IsInf(got, 1) {
		t.Errorf("mean change from 0 = %v, want +Inf", got)
	}
	if got, _ := MeanChange(zero, zero); got != 0 {
		t.Errorf("mean change 0 → 0 = %v", got)
	}
	if _, err := Compare(MetricMeanChange, fieldOf(rules.Str("a")), base, 0); !errors.Is(err, ErrNoData) {
		t.Errorf("mean of strings: err = %v", err)
	}
	if _, err := QuantileChange(base, cur, 1.5); err == nil {
		t.Error("quantile 1.5: no error")
	}
}

// sample profiles n events of one type: ratings drawn with weights and
// response times lognormal(mu, 0.5) in ms.
func sample(seed uint64, n int, weights []float64, mu float64) *Profile {
	r := rand.New(rand.NewPCG(seed, 11))
	s := rules.NewShape("E", fields("rating", "responseTime", "server"))
	b := NewBuilder()
	e := ev(s, rules.Value{}, rules.Value{}, rules.Value{})
	servers := []string{"a", "b", "c"}
	for range n {
		e.vals[0] = rules.Int(int64(1 + pick(r, weights)))
		e.vals[1] = rules.Int(int64(math.Exp(r.NormFloat64()*0.5 + mu)))
		e.vals[2] = rules.Str(servers[r.IntN(3)])
		b.Observe(e)
	}
	return b.Profile()
}

func TestDriftOnSamples(t *testing.T) {
	oneStar := []float64{0.5, 0.2, 0.15, 0.1, 0.05}
	tests := []struct {
		name    string
		cur     *Profile
		field   string
		psiLess bool // PSI < 0.1 and LInf < 0.1, else PSI > 0.25 and LInf > 0.2
	}{
		{name: "same ratings", cur: sample(2, 10000, ratingWeights, 5), field: "rating", psiLess: true},
		{name: "same response times", cur: sample(2, 10000, ratingWeights, 5), field: "responseTime", psiLess: true},
		{name: "same servers", cur: sample(2, 10000, ratingWeights, 5), field: "server", psiLess: true},
		{name: "ratings to one star", cur: sample(3, 10000, oneStar, 5), field: "rating"},
		{name: "slower responses", cur: sample(3, 10000, ratingWeights, 5.5), field: "responseTime"},
	}
	base := sample(1, 10000, ratingWeights, 5)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, c := base.Field("E", tc.field), tc.cur.Field("E", tc.field)
			psi, err1 := Compare(MetricPSI, b, c, 0)
			linf, err2 := Compare(MetricLInf, b, c, 0)
			js, err3 := Compare(MetricJS, b, c, 0)
			if err := errors.Join(err1, err2, err3); err != nil {
				t.Fatal(err)
			}
			t.Logf("psi %.4f linf %.4f js %.4f", psi, linf, js)
			if tc.psiLess && (psi >= 0.1 || linf >= 0.1) {
				t.Errorf("same distribution: psi %v, linf %v; want both < 0.1", psi, linf)
			}
			if !tc.psiLess && (psi <= 0.25 || linf <= 0.2) {
				t.Errorf("shifted distribution: psi %v, linf %v; want > 0.25 and > 0.2", psi, linf)
			}
			if js < 0 || js > 1 {
				t.Errorf("js = %v out of [0, 1]", js)
			}
		})
	}
	d, _ := Distributions(base.Field("E", "rating"), base.Field("E", "rating"))
	if d.Numeric || !slices.Equal(d.Labels, []string{"4", "5", "3", "1", "2"}) && !slices.Equal(d.Labels, []string{"4", "5", "3", "2", "1"}) {
		t.Errorf("ratings should be categorical: %+v", d)
	}
}

func TestMetricNames(t *testing.T) {
	for m := MetricPSI; m <= MetricNullRatioChange; m++ {
		got, err := ParseMetric(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMetric(%q) = %v, %v", m.String(), got, err)
		}
	}
	if Metric(0).String() != "unset" || MetricLInf.String() != "linf" {
		t.Errorf("names: %s %s", Metric(0), MetricLInf)
	}
	_, err := ParseMetric("kl")
	if err == nil || !strings.Contains(err.Error(), "psi, js, linf") {
		t.Errorf("ParseMetric(kl): %v", err)
	}
	if _, err := Compare(Metric(0), &FieldProfile{}, &FieldProfile{}, 0); err == nil {
		t.Error("Compare with unset metric: no error")
	}
}

func TestMedianMAD(t *testing.T) {
	tests := []struct {
		name        string
		xs          []float64
		median, mad float64
	}{
		// Deviations from 3: 2 1 0 1 97 → median 1.
		{name: "odd with outlier", xs: []float64{4, 1, 100, 3, 2}, median: 3, mad: 1},
		// Median (2+3)/2; deviations 1.5 .5 .5 1.5 → 1.
		{name: "even", xs: []float64{1, 2, 3, 4}, median: 2.5, mad: 1},
		{name: "constant", xs: []float64{7, 7, 7}, median: 7, mad: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.xs)
			m, mad := MedianMAD(tc.xs)
			if m != tc.median || mad != tc.mad {
				t.Errorf("MedianMAD = %v, %v; want %v, %v", m, mad, tc.median, tc.mad)
			}
			if !slices.Equal(in, tc.xs) {
				t.Error("MedianMAD reordered its input")
			}
		})
	}
	if m, mad := MedianMAD(nil); !math.IsNaN(m) || !math.IsNaN(mad) {
		t.Errorf("MedianMAD(nil) = %v, %v", m, mad)
	}
	// 0.6745 · (100 − 3) / 1.
	if z := RobustZ(100, 3, 1); !near(z, 65.4265, 1e-9) {
		t.Errorf("RobustZ = %v, want 65.4265", z)
	}
	if z := RobustZ(8, 7, 0); !math.IsInf(z, 1) {
		t.Errorf("RobustZ with MAD 0 = %v, want +Inf", z)
	}
	if z := RobustZ(7, 7, 0); z != 0 {
		t.Errorf("RobustZ at the median with MAD 0 = %v", z)
	}
}

// TestLInfOfManyValuesIsPerValue: a baseline pooled over several days
// spreads an id field thinly, while one day has its own top values. The
// L∞ distance is the largest change of one value's share (TFDV's); the
// "other" bucket of the chart must not turn the different top values of
// two ordinary samples into drift.
func TestLInfOfManyValuesIsPerValue(t *testing.T) {
	base, cur := map[string]int{}, map[string]int{}
	for i := range 500 { // five days of 100 ids each, 2 events an id
		base["id"+strconv.Itoa(i)] = 2
	}
	for i := range 100 { // today: 100 ids of the same kind, 10 events each
		cur["id"+strconv.Itoa(1000+i)] = 10
	}
	got, err := Compare(MetricLInf, fieldOf(strs(base)...), fieldOf(strs(cur)...), 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.01; !near(got, want, 1e-12) { // each id: 0.2% in the baseline or 1% today
		t.Errorf("linf = %v, want %v", got, want)
	}
}

// TestRetypedAndOutgrown: a field counts as retyped when most of today's
// values are of a kind the baseline barely had, not when it mixes kinds
// every day; as outgrown when it goes from values counted exactly to ten
// times as many, not when it crosses MaxDistinct on a busier day or is
// high-cardinality on both sides.
func TestRetypedAndOutgrown(t *testing.T) {
	shape := rules.NewShape("Click", fields("v"))
	field := func(n int, val func(i int) rules.Value) *FieldProfile {
		b := NewBuilder()
		for i := range n {
			b.Observe(ev(shape, val(i)))
		}
		return b.Profile().Field("Click", "v")
	}
	ints := func(k int) func(int) rules.Value { return func(i int) rules.Value { return rules.Int(int64(i % k)) } }
	strs := func(k int) func(int) rules.Value {
		return func(i int) rules.Value { return rules.Str("s" + strconv.Itoa(i%k)) }
	}
	mixed := func(strShare int) func(int) rules.Value {
		return func(i int) rules.Value {
			if i%100 < strShare {
				return rules.Str("x")
			}
			return rules.Int(int64(i % 7))
		}
	}
	nulls := func(int) rules.Value { return rules.Value{} }
	tests := []struct {
		name              string
		base, cur         *FieldProfile
		retyped, outgrown string
	}{
		{name: "int to string", base: field(2000, ints(1500)), cur: field(2000, strs(1500)), retyped: "retyped: int in the baseline, string today"},
		{name: "string to int and float", base: field(100, strs(3)), cur: field(100, func(i int) rules.Value {
			if i%2 == 0 {
				return rules.Float(0.5)
			}
			return rules.Int(1)
		}), retyped: "retyped: string in the baseline, int and float today"},
		{name: "half-way retype", base: field(1000, ints(5)), cur: field(1000, mixed(60)), retyped: "retyped: int in the baseline, string today"},
		{name: "kinds mixed every day", base: field(1000, mixed(45)), cur: field(1000, mixed(55))},
		{name: "int to float is a number still", base: field(100, ints(5)), cur: field(100, func(i int) rules.Value { return rules.Float(float64(i)) })},
		{name: "all null today", base: field(100, ints(5)), cur: field(100, nulls)},
		{name: "few values to thousands", base: field(5000, strs(3)), cur: field(5000, strs(5000)), outgrown: "too many distinct values to compare frequencies: 3 in the baseline, about 5,0"},
		{name: "a busier day crosses the limit", base: field(5000, strs(600)), cur: field(20000, strs(2500))},
		{name: "ids every day", base: field(5000, strs(5000)), cur: field(5000, strs(5000))},
		{name: "fewer values today", base: field(5000, strs(5000)), cur: field(5000, strs(3))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Retyped(tc.base, tc.cur); got != tc.retyped {
				t.Errorf("Retyped = %q, want %q", got, tc.retyped)
			}
			if got := Outgrown(tc.base, tc.cur); !strings.HasPrefix(got, tc.outgrown) || (got == "") != (tc.outgrown == "") {
				t.Errorf("Outgrown = %q, want %q", got, tc.outgrown)
			}
		})
	}
}
